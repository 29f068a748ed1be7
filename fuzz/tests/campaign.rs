//! A short campaign on every `cargo test` (the million-input run is a CI
//! step in release): a few seeds, all properties, and replay determinism.

#[test]
fn a_short_campaign_breaks_no_property() {
    for seed in [1, 2, 3] {
        match diorama_fuzz::run_on_small_stack(seed, 20_000) {
            Ok(summary) => {
                assert_eq!(summary.inputs, 20_000);
                assert!(summary.per_target.iter().all(|&n| n > 1_000), "{summary:?}");
                // Mutations keep enough inputs well-formed to reach past
                // the decoders' first checks.
                assert!(summary.accepted > 4_000, "{summary:?}");
            }
            Err(failure) => panic!("{failure}"),
        }
    }
}

#[test]
fn a_seed_replays_the_same_campaign() {
    let a = diorama_fuzz::run_on_small_stack(9, 5_000).unwrap();
    let b = diorama_fuzz::run_on_small_stack(9, 5_000).unwrap();
    assert_eq!(
        (a.accepted, a.per_target, a.corpus),
        (b.accepted, b.per_target, b.corpus)
    );
}
