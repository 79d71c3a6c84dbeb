//! timely's `ProgressMode::Eager` with the chain: the leg accepts every batch stock accepts.
//!
//! `ChangeBatch::compact` leaves a lone update unchecked, so `Progcaster::send` can be handed
//! `[(k, 0)]`: an empty `EventLink` replayed into a scope reports `(minimum, 0)` as its first
//! change, and Eager mode sends it at once. Stock timely broadcasts it harmlessly; the chain
//! leg drops it (before the fix, `Batch::extend_sorted`'s consolidation check panicked every
//! worker in debug builds).

use std::rc::Rc;
use std::sync::mpsc;
use std::time::Duration;

use progcaster_chain::live_chains;
use timely::dataflow::operators::capture::{Event, EventLink, EventPusher, Replay};
use timely::worker::{ProgressMedium, ProgressMode};
use timely::{CommunicationConfig, Config, WorkerConfig};

/// Two workers in Eager mode, each replaying one empty `EventLink` into a dataflow of its
/// own, which completes once the link retracts the replay's capability at 0. Returns the
/// live progress chains each worker saw while its dataflow ran.
fn replay_empty_links(worker: WorkerConfig) -> Vec<usize> {
    let config = Config {
        communication: CommunicationConfig::Process(2),
        worker: worker.progress_mode(ProgressMode::Eager),
    };
    let (done, finished) = mpsc::channel();
    std::thread::spawn(move || {
        let result = timely::execute(config, |worker| {
            let link = Rc::new(EventLink::<u64, Vec<u64>>::new());
            let mut tail = Rc::clone(&link);
            worker.dataflow::<u64, _, _>(|scope| {
                Some(link).replay_into(scope);
            });
            // The replay's first change, `(0, 0)`, goes out alone on the first step.
            for _ in 0..20 {
                assert!(worker.step(), "the replay still holds time 0");
            }
            let chains = live_chains();
            tail.push(Event::Progress(vec![(0, -1)]));
            while worker.step() {}
            chains
        })
        .map(|guards| guards.join());
        let _ = done.send(result);
    });
    wiring_tests::child::recv_within(&finished, Duration::from_secs(60))
        .expect("the Eager-mode run hung")
        .expect("execute")
        .into_iter()
        .map(|result| result.expect("worker panicked"))
        .collect()
}

#[test]
fn eager_mode_replay_of_empty_links_under_both_media() {
    assert_eq!(
        progcaster_chain::medium_override(),
        Ok(None),
        "this test chooses its media itself: unset TIMELY_PROGRESS_MEDIUM"
    );
    // The default medium: the chain, one per scope.
    assert_eq!(replay_empty_links(WorkerConfig::default()), vec![1, 1]);
    assert_eq!(live_chains(), 0);
    // timely's own channels.
    let stock = WorkerConfig::default().progress_medium(ProgressMedium::Stock);
    assert_eq!(replay_empty_links(stock), vec![0, 0]);
}
