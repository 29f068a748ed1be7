//! `serve` logs one line per request, with its id (also the response's
//! `x-request-id`), status and latency; refused request heads are logged
//! too. The test installs a subscriber writing into a buffer (a global
//! one, so this file holds the only test that logs).

use std::io::Write;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use diorama_apps::sample::products::product;
use diorama_apps::serve::{Schema, Service, ServiceOptions};
use diorama_core::{MemoryBackend, MemoryVista};

/// Log lines written so far.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Captured {
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap()).into_owned()
    }
}

#[test]
fn each_request_logs_one_line_with_its_id_status_and_latency() {
    let captured = Captured::default();
    let writer = captured.clone();
    tracing_subscriber::fmt()
        .with_writer(move || writer.clone())
        .with_ansi(false)
        .init();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let master = MemoryVista::new("products").with_rows((0..50).map(product));
    let (addr, stop) = runtime.block_on(async {
        let service = Service::open(
            Arc::new(master),
            Arc::new(MemoryBackend::new()),
            Schema::products(),
            ServiceOptions::default(),
        )
        .await
        .unwrap();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        tokio::spawn(service.serve(listener, async move {
            let _ = stopped.await;
        }));
        (addr, stop)
    });
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(20)))
        .build()
        .into();
    let mut ids = Vec::new();
    for path in ["/products/p0000003", "/products?limit=5", "/nowhere"] {
        let response = agent.get(format!("http://{addr}{path}")).call().unwrap();
        let id = response.headers()["x-request-id"]
            .to_str()
            .unwrap()
            .to_owned();
        ids.push((id, path, response.status().as_u16()));
    }
    let _ = stop.send(());
    drop(runtime);
    let text = captured.text();
    for (id, path, status) in &ids {
        let lines: Vec<&str> = text
            .lines()
            .filter(|l| l.contains(&format!("request_id={id} ")) && l.contains(" request "))
            .filter(|l| l.contains("latency_ms="))
            .collect();
        assert_eq!(lines.len(), 1, "{path}: {text}");
        assert!(
            lines[0].contains(&format!("status={status}")),
            "{}",
            lines[0]
        );
        assert!(lines[0].contains(&format!("target={path}")), "{}", lines[0]);
    }
    assert_ne!(ids[0].0, ids[1].0, "ids differ");
}
