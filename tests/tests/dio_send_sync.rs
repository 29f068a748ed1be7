//! Auto-trait pins: the Dio API can be used from multi-threaded executors.
//!
//! Checked at compile time (a regression fails to build); the functions
//! taking futures are never run, only type-checked.

use diorama_core::dio::WriteTicket;
use diorama_core::{Dio, Lens, LensBuilder, Vista, WriteOp};

fn send<T: Send>(_: &T) {}
fn send_sync<T: Send + Sync>() {}

#[test]
fn handles_are_send_and_sync() {
    send_sync::<Dio>();
    send_sync::<Lens>();
    send_sync::<LensBuilder>();
    send_sync::<Vista>();
    send_sync::<diorama_core::DioEvent>();
    send_sync::<diorama_core::sync::broadcast::BroadcastReceiver<diorama_core::DioEvent>>();
}

#[test]
fn write_ticket_is_send() {
    fn ticket_is_send<T: Send>() {}
    ticket_is_send::<WriteTicket>();
}

#[test]
fn futures_are_send() {
    // Referenced, never called: it only has to type-check.
    let _: fn(&Lens, &Dio, Vista, WriteTicket) = pin_futures;
}

fn pin_futures(lens: &Lens, dio: &Dio, vista: Vista, ticket: WriteTicket) {
    send(&lens.make_dio(vista.clone()));
    send(&lens.make_dio_as(vista, "other"));
    send(&dio.refresh());
    send(&dio.shutdown());
    send(&dio.started());
    send(&dio.write(WriteOp::DeleteAll));
    send(&dio.insert(None, Default::default()));
    send(&dio.replace("id", Default::default()));
    send(&dio.patch("id", Default::default()));
    send(&dio.delete("id"));
    send(&dio.delete_all());
    send(&dio.handle_event(diorama_core::ChangeEvent::Reset));
    send(&ticket.outcome());
    let facade = dio.vista();
    send(&facade.list());
    send(&facade.count());
    send(&facade.get("id"));
    send(&facade.fetch_window(0, 10));
    send(&facade.insert(None, Default::default()));
    let mut events = dio.subscribe_events();
    send(&events.recv());
}
