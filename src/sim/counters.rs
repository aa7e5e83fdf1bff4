//! Deterministic packet counters: while forwarding, each patch moves a fixed number of
//! packets per millisecond, derived from the seed, so two `status` calls a second apart
//! show visible growth and two runs with the same seed and timing agree.

use std::time::{Duration, Instant};

/// Packets per millisecond (1–10, i.e. 1 000–10 000 pps) for the patch keyed by `key`.
pub fn rate_per_ms(seed: u64, key: u64) -> u64 {
    1 + splitmix64(seed ^ key.wrapping_mul(0x9E37_79B9_7F4A_7C15)) % 10
}

fn splitmix64(mut x: u64) -> u64 {
    x = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    x = (x ^ (x >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    x ^ (x >> 31)
}

/// Hands out whole elapsed milliseconds, keeping the fraction for the next call.
#[derive(Debug, Default)]
pub struct Ticker {
    last: Option<Instant>,
}

impl Ticker {
    /// Milliseconds elapsed since the previous call (0 on the first call, or when time
    /// went backwards, which only tests can arrange).
    pub fn ticks(&mut self, now: Instant) -> u64 {
        let Some(last) = self.last else {
            self.last = Some(now);
            return 0;
        };
        let ms = now.checked_duration_since(last).map_or(0, |d| d.as_millis());
        let ms = u64::try_from(ms).unwrap_or(u64::MAX);
        self.last = Some(last + Duration::from_millis(ms));
        ms
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ticks_keep_fractions_and_rates_are_deterministic() {
        let t0 = Instant::now();
        let mut ticker = Ticker::default();
        assert_eq!(ticker.ticks(t0), 0);
        assert_eq!(ticker.ticks(t0 + Duration::from_micros(1500)), 1);
        assert_eq!(ticker.ticks(t0 + Duration::from_micros(2500)), 1);
        assert_eq!(rate_per_ms(7, 1), rate_per_ms(7, 1));
        assert!((1..=10).contains(&rate_per_ms(7, 1)));
    }
}
