//! Test 13a: `build()` refuses every invalid configuration.

use std::time::Duration;

use diorama_core::Lens;
use diorama_core::lens::LensBuildError;

use super::support::lens_on;
use crate::harness::Harness;

/// Test 13a: Each invalid configuration gets its own typed error; the defaults
/// are the documented ones.
pub fn build_rejects_invalid_configurations<H: Harness>(h: &H) {
    let error = |builder: diorama_core::LensBuilder| builder.build().unwrap_err();
    assert_eq!(
        error(Lens::builder().runtime(h.runtime())),
        LensBuildError::MissingCacheBackend
    );
    assert_eq!(
        error(Lens::new().cache_source(h.backend())),
        LensBuildError::MissingRuntime
    );
    assert_eq!(
        error(lens_on(h).write_queue_capacity(0)),
        LensBuildError::ZeroQueueCapacity
    );
    assert_eq!(
        error(lens_on(h).event_bus_capacity(0)),
        LensBuildError::ZeroEventBusCapacity
    );
    assert_eq!(
        error(lens_on(h).refresh_every(Duration::ZERO)),
        LensBuildError::ZeroRefreshInterval
    );
    // Each message names what to fix.
    assert!(
        LensBuildError::MissingCacheBackend
            .to_string()
            .contains("cache_source")
    );

    let lens = lens_on(h).build().unwrap();
    let defaults = lens.defaults();
    assert_eq!(defaults.write_queue_capacity, 256);
    assert!(defaults.on_start_blocking);
    assert!(defaults.refresh_on_open);
    assert_eq!(defaults.viewport_debounce, Duration::from_millis(50));
    assert_eq!(defaults.refresh_interval, None);
    assert_eq!(defaults.cache_ttl, None);
    let lens = lens_on(h)
        .write_queue_capacity(1)
        .refresh_every(Duration::from_secs(1))
        .build()
        .unwrap();
    assert_eq!(lens.defaults().write_queue_capacity, 1);
}
