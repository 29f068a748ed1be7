//! The writes of an [`HttpVista`]: one request each, along the mapping's
//! routes.

use diorama_core::vista::{Id, Query};
use diorama_core::{Error, Record, Result};
use serde_json::{Map, Value as Json};

use super::HttpVista;
use super::client::{Reply, Request, status_error};
use super::json::{malformed, record_to_json};
use super::mapping::Route;

impl HttpVista {
    fn route<'a>(&self, route: &'a Option<Route>, op: &str) -> Result<&'a Route> {
        route.as_ref().ok_or_else(|| {
            Error::unsupported(format!(
                "{op} on \"{}\": the mapping has no {op} route",
                self.mapping.name
            ))
        })
    }

    /// `can_update` covers replace and patch together, so both need their
    /// route before either is sent.
    fn update_routes(&self, op: &str) -> Result<(&Route, &Route)> {
        let m = &self.mapping;
        match (&m.replace, &m.patch) {
            (Some(replace), Some(patch)) => Ok((replace, patch)),
            _ => Err(Error::unsupported(format!(
                "{op} on \"{}\": updates need both a replace and a patch route in the mapping",
                m.name
            ))),
        }
    }

    /// Send `body` along `route` for row `id`; a 2xx reply, else the error
    /// its status means.
    async fn send_write(
        &self,
        route: &Route,
        id: Option<&str>,
        body: Option<Json>,
    ) -> Result<Reply> {
        let url = self.url(&route.path, id);
        let what = format!("{} {url}", route.method);
        let body = body
            .map(|json| serde_json::to_vec(&json))
            .transpose()
            .map_err(|e| {
                Error::invalid_input(format!("{what}: the body cannot be written: {e}"))
            })?;
        let reply = self
            .client
            .send(Request {
                method: route.method,
                url,
                query: Vec::new(),
                body,
            })
            .await?;
        if (200..300).contains(&reply.status) {
            Ok(reply)
        } else {
            Err(status_error(&what, reply.status, &reply.body))
        }
    }

    pub(super) async fn write_insert(&self, id: Option<Id>, record: Record) -> Result<Id> {
        let route = self.route(&self.mapping.insert, "insert")?;
        if id.is_none() && route.path.contains("{id}") {
            return Err(Error::invalid_input(format!(
                "insert on \"{}\": the insert route {} needs the row's id",
                self.mapping.name, route.path
            )));
        }
        let mut body = record_to_json(&record)?;
        if let Some(id) = &id {
            body.insert(self.mapping.id_field.clone(), Json::String(id.clone()));
        }
        let reply = self
            .send_write(route, id.as_deref(), Some(Json::Object(body)))
            .await?;
        match (self.id_in(&reply), id) {
            (Some(answered), _) => Ok(answered),
            (None, Some(id)) => Ok(id),
            (None, None) => Err(malformed(format!(
                "insert on \"{}\": the row was sent, but the response does not say its id \
                 (no {:?} field)",
                self.mapping.name, self.mapping.id_field
            ))),
        }
    }

    /// The id field of a JSON object reply, if it has one.
    fn id_in(&self, reply: &Reply) -> Option<Id> {
        let json: Json = serde_json::from_slice(&reply.body).ok()?;
        match json.get(&self.mapping.id_field)? {
            Json::String(id) => Some(id.clone()),
            Json::Number(n) if n.is_i64() || n.is_u64() => Some(n.to_string()),
            _ => None,
        }
    }

    pub(super) async fn write_replace(&self, id: &str, record: Record) -> Result<()> {
        let (route, _) = self.update_routes("replace")?;
        let mut body: Map<String, Json> = record_to_json(&record)?;
        if let Some(columns) = &self.mapping.columns {
            // Every column is written, so even a PATCH route replaces the row.
            for column in columns {
                body.entry(column.clone()).or_insert(Json::Null);
            }
        }
        self.send_write(route, Some(id), Some(Json::Object(body)))
            .await
            .map(|_| ())
    }

    pub(super) async fn write_patch(&self, id: &str, fields: Record) -> Result<()> {
        let (_, route) = self.update_routes("patch")?;
        let body = record_to_json(&fields)?;
        self.send_write(route, Some(id), Some(Json::Object(body)))
            .await
            .map(|_| ())
    }

    pub(super) async fn write_delete(&self, id: &str) -> Result<()> {
        let route = self.route(&self.mapping.delete, "delete")?;
        match self.send_write(route, Some(id), None).await {
            Err(error) if error.kind() == diorama_core::ErrorKind::NotFound => Ok(()),
            done => done.map(|_| ()),
        }
    }

    /// Every row listed, then deleted one request at a time: not atomic (a
    /// failure stops with the rows before it deleted), since HTTP APIs
    /// rarely have a "delete all" and the mapping does not describe one.
    pub(super) async fn write_delete_all(&self) -> Result<()> {
        self.route(&self.mapping.delete, "delete_all")?;
        let rows = self.read_list(&Query::new()).await?;
        for (id, _) in rows {
            self.write_delete(&id).await?;
        }
        Ok(())
    }
}
