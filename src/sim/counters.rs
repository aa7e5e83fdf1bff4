//! Deterministic packet counters shared by the processes of one `sim` instance.
//!
//! Counters of phy ports and rings live in the primary's shared memory and are advanced
//! by whoever forwards through them (`docs/wire-protocol.md` §6.1, §8.3). Each model registers its active
//! patches as streams with a fixed rate derived from the seed; the bank turns elapsed
//! whole milliseconds into packets, so two `status` calls a second apart show growth and
//! runs with the same seed and timing agree.

use parking_lot::Mutex;
use std::sync::Arc;
use std::time::{Duration, Instant};

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct PhyCounters {
    pub(crate) rx: u64,
    pub(crate) tx: u64,
    pub(crate) tx_drop: u64,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct RingCounters {
    pub(crate) rx: u64,
    pub(crate) rx_drop: u64,
    pub(crate) tx: u64,
    pub(crate) tx_drop: u64,
}

/// A port whose counters the primary reports.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Counted {
    Phy(u32),
    Ring(u32),
}

/// Packets flowing from `src` (counted as rx) to `dst` (counted as tx).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Stream {
    pub(crate) src: Option<Counted>,
    pub(crate) dst: Option<Counted>,
    pub(crate) per_ms: u64,
}

/// Packets per millisecond (1–10, i.e. 1 000–10 000 pps) for the stream keyed by `key`.
pub(crate) fn rate_per_ms(seed: u64, key: u64) -> u64 {
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
struct Ticker {
    last: Option<Instant>,
}

impl Ticker {
    /// Milliseconds since the previous call (0 on the first call or if time went back).
    fn ticks(&mut self, now: Instant) -> u64 {
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

#[derive(Debug, Default)]
struct Bank {
    phy: Vec<PhyCounters>,
    rings: Vec<RingCounters>,
    streams: Vec<(u64, Stream)>,
    ticker: Ticker,
    owners: u64,
}

impl Bank {
    fn advance(&mut self, now: Instant) {
        let ms = self.ticker.ticks(now);
        if ms == 0 {
            return;
        }
        for (_, s) in self.streams.clone() {
            let n = s.per_ms.saturating_mul(ms);
            s.src.into_iter().for_each(|p| self.count(p, n, true));
            s.dst.into_iter().for_each(|p| self.count(p, n, false));
        }
    }

    fn count(&mut self, port: Counted, n: u64, rx: bool) {
        let field = match port {
            Counted::Phy(i) => {
                let c = grow(&mut self.phy, i);
                if rx { &mut c.rx } else { &mut c.tx }
            }
            Counted::Ring(i) => {
                let c = grow(&mut self.rings, i);
                if rx { &mut c.rx } else { &mut c.tx }
            }
        };
        *field = field.saturating_add(n);
    }
}

fn grow<T: Default + Clone>(v: &mut Vec<T>, i: u32) -> &mut T {
    let i = i as usize;
    if v.len() <= i {
        v.resize(i + 1, T::default());
    }
    &mut v[i]
}

/// Counters shared by the models of one `sim` instance; cheap to clone.
#[derive(Clone, Debug, Default)]
pub(crate) struct CounterBank(Arc<Mutex<Bank>>);

impl CounterBank {
    pub(crate) fn new() -> Self {
        Self::default()
    }

    /// A distinct owner key for one model's streams.
    pub(super) fn owner(&self) -> u64 {
        let mut bank = self.0.lock();
        bank.owners += 1;
        bank.owners
    }

    /// Replaces the streams of `owner`, accounting for the time until `now` first.
    pub(super) fn set_streams(&self, owner: u64, now: Instant, streams: Vec<Stream>) {
        let mut bank = self.0.lock();
        bank.advance(now);
        bank.streams.retain(|(o, _)| *o != owner);
        bank.streams.extend(streams.into_iter().map(|s| (owner, s)));
    }

    /// Counters of `phy` phy ports and `rings` rings as of `now`.
    pub(super) fn snapshot(
        &self,
        now: Instant,
        phy: usize,
        rings: usize,
    ) -> (Vec<PhyCounters>, Vec<RingCounters>) {
        let mut bank = self.0.lock();
        bank.advance(now);
        let mut p = bank.phy.clone();
        let mut r = bank.rings.clone();
        p.resize(phy, PhyCounters::default());
        r.resize(rings, RingCounters::default());
        (p, r)
    }

    /// `clear` of the primary: zero every phy and ring counter.
    pub(super) fn clear(&self, now: Instant) {
        let mut bank = self.0.lock();
        bank.advance(now);
        bank.phy.clear();
        bank.rings.clear();
    }

    #[cfg(test)]
    pub(super) fn set(&self, phy: Vec<PhyCounters>, rings: Vec<RingCounters>) {
        let mut bank = self.0.lock();
        bank.phy = phy;
        bank.rings = rings;
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

    #[test]
    fn streams_of_two_owners_add_up() {
        let bank = CounterBank::new();
        let t0 = Instant::now();
        let (a, b) = (bank.owner(), bank.owner());
        let s = Stream { src: Some(Counted::Phy(0)), dst: Some(Counted::Ring(1)), per_ms: 2 };
        bank.set_streams(a, t0, vec![s]);
        bank.set_streams(b, t0, vec![s]);
        let (phy, rings) = bank.snapshot(t0 + Duration::from_millis(10), 2, 2);
        assert_eq!(phy[0].rx, 40);
        assert_eq!(rings[1].tx, 40);
        bank.set_streams(a, t0 + Duration::from_millis(10), Vec::new());
        let (phy, _) = bank.snapshot(t0 + Duration::from_millis(20), 2, 2);
        assert_eq!(phy[0].rx, 60);
    }
}
