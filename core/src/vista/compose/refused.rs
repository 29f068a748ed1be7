//! The shell of a composition that could not be made: every call fails
//! with the reason, so the refusal reaches whoever uses the Vista.

use alloc::boxed::Box;
use alloc::string::String;
use alloc::vec::Vec;

use crate::error::{Error, Result};
use crate::runtime::BoxFuture;
use crate::value::Record;
use crate::vista::{Clause, Id, Page, Query, TableShell, VistaCapabilities};

/// Offers nothing and answers every call with `error` (`InvalidInput`).
#[derive(Debug)]
pub(crate) struct Refused {
    name: String,
    error: Error,
}

impl Refused {
    pub(crate) fn new(name: String, error: Error) -> Self {
        Refused { name, error }
    }

    fn fail<'a, T: Send + 'a>(&self) -> BoxFuture<'a, Result<T>> {
        let error = self.error.clone();
        Box::pin(async move { Err(error) })
    }
}

impl TableShell for Refused {
    fn name(&self) -> &str {
        &self.name
    }

    fn capabilities(&self) -> VistaCapabilities {
        VistaCapabilities::NONE
    }

    fn accepts(&self, _clause: Clause<'_>) -> bool {
        false
    }

    fn list<'a>(&'a self, _query: &'a Query) -> BoxFuture<'a, Result<Vec<(Id, Record)>>> {
        self.fail()
    }

    fn get<'a>(&'a self, _id: &'a str) -> BoxFuture<'a, Result<Option<Record>>> {
        self.fail()
    }

    fn count<'a>(&'a self, _query: &'a Query) -> BoxFuture<'a, Result<usize>> {
        self.fail()
    }

    fn fetch_window<'a>(
        &'a self,
        _query: &'a Query,
        _offset: usize,
        _limit: usize,
    ) -> BoxFuture<'a, Result<Page>> {
        self.fail()
    }

    fn insert<'a>(&'a self, _id: Option<Id>, _record: Record) -> BoxFuture<'a, Result<Id>> {
        self.fail()
    }

    fn replace<'a>(&'a self, _id: &'a str, _record: Record) -> BoxFuture<'a, Result<()>> {
        self.fail()
    }

    fn patch<'a>(&'a self, _id: &'a str, _fields: Record) -> BoxFuture<'a, Result<()>> {
        self.fail()
    }

    fn delete<'a>(&'a self, _id: &'a str) -> BoxFuture<'a, Result<()>> {
        self.fail()
    }

    fn delete_all(&self) -> BoxFuture<'_, Result<()>> {
        self.fail()
    }
}
