//! Spawning: an output reaches its join handle, from a task, from another
//! thread, for many tasks at once; dropping the handle detaches the task.

use futures_lite::future::yield_now;

use diorama_core::RuntimeExt;
use diorama_core::sync::queue;

use super::support::assert_no_live_tasks;
use crate::harness::Harness;

/// A spawned task's output reaches its handle: spawned by the test, by a
/// task (which awaits its child), and from another OS thread; a finished
/// task's handle says so and still yields the output.
pub fn spawn_delivers_the_output<H: Harness>(h: &H) {
    let rt = h.runtime();
    let answer = rt.spawn("answer", async { 6 * 7 });
    assert_eq!(h.block_on(answer), Ok(42));

    let inner = rt.clone();
    let parent = rt.spawn("parent", async move {
        inner.spawn("child", async { "from child" }).await
    });
    assert_eq!(h.block_on(parent), Ok(Ok("from child")));

    let from_thread = {
        let rt = rt.clone();
        std::thread::spawn(move || rt.spawn("from-thread", async { 9 }))
            .join()
            .expect("spawning from another thread does not panic")
    };
    assert_eq!(h.block_on(from_thread), Ok(9));

    let done = rt.spawn("done", async { 1 });
    h.settle_until("a ready task finishes", || done.is_finished());
    assert_eq!(h.block_on(done), Ok(1));
    assert_no_live_tasks(h, "after every join");
}

/// A thousand tasks each deliver their own output; a hundred tasks that
/// yield ten times each all run to their end.
pub fn many_tasks_run_to_their_end<H: Harness>(h: &H) {
    let rt = h.runtime();
    let squares: Vec<_> = (0..1_000u64)
        .map(|i| rt.spawn("square", async move { i * i }))
        .collect();
    let yielders: Vec<_> = (0..100u64)
        .map(|i| {
            rt.spawn("yielder", async move {
                let mut steps = 0;
                for _ in 0..10 {
                    yield_now().await;
                    steps += 1;
                }
                i + steps
            })
        })
        .collect();
    let (squares, yielded) = h.block_on(async {
        let mut squares_out = Vec::new();
        for handle in squares {
            squares_out.push(handle.await.expect("a square task finishes"));
        }
        let mut yielded = Vec::new();
        for handle in yielders {
            yielded.push(handle.await.expect("a yielding task finishes"));
        }
        (squares_out, yielded)
    });
    assert_eq!(squares, (0..1_000u64).map(|i| i * i).collect::<Vec<_>>());
    assert_eq!(yielded, (0..100u64).map(|i| i + 10).collect::<Vec<_>>());
    assert_no_live_tasks(h, "after a thousand tasks");
}

/// Dropping a `JoinHandle` detaches the task: it keeps running and
/// finishes its work.
pub fn a_dropped_handle_detaches_the_task<H: Harness>(h: &H) {
    let rt = h.runtime();
    let (input, inbox) = queue::channel::<u32>(1);
    let (report, reports) = queue::channel::<u32>(1);
    drop(rt.spawn("detached", async move {
        let n = inbox.recv().await.expect("the test sends one number");
        report.send(n + 1).await.expect("the test listens");
    }));
    h.settle();
    if let Some(live) = h.live_tasks() {
        assert_eq!(live, ["detached"], "the task lives on without its handle");
    }
    input.try_send(1).expect("room for one");
    let answer = h.block_on(async { reports.recv().await });
    assert_eq!(answer.ok(), Some(2), "the detached task ran to its end");
    h.settle();
    assert_no_live_tasks(h, "after the detached task ended");
}
