//! Resource UIDs as spp_primary and spp_nfv parse them (`parse_resource_uid`, `docs/wire-protocol.md` §4.3,
//! base 10, `nq` accepted on any type) and the device table both keep in ethdev order.
//!
//! spp_vf/spp_mirror parse UIDs differently (base 0, range checks); see `vf_parse`.

/// Port types known to primary and nfv.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum PortType {
    Phy,
    Ring,
    Vhost,
    Pcap,
    Nullpmd,
    Tap,
    Memif,
    Pipe,
}

/// Types a name lookup knows (`pipe` is missing on purpose: `docs/wire-protocol.md` §4.4, `patch` fails).
const LOOKUP: [PortType; 7] = [
    PortType::Phy,
    PortType::Ring,
    PortType::Vhost,
    PortType::Pcap,
    PortType::Nullpmd,
    PortType::Tap,
    PortType::Memif,
];

impl PortType {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            PortType::Phy => "phy",
            PortType::Ring => "ring",
            PortType::Vhost => "vhost",
            PortType::Pcap => "pcap",
            PortType::Nullpmd => "nullpmd",
            PortType::Tap => "tap",
            PortType::Memif => "memif",
            PortType::Pipe => "pipe",
        }
    }

    /// Exact match, as `add`/`del` dispatch.
    pub(crate) fn from_exact(s: &str) -> Option<PortType> {
        LOOKUP.into_iter().chain([PortType::Pipe]).find(|t| t.as_str() == s)
    }

    /// Prefix match, as `patch` looks names up (`ringX` is `ring`).
    pub(crate) fn from_prefix(s: &str) -> Option<PortType> {
        LOOKUP.into_iter().find(|t| s.starts_with(t.as_str()))
    }
}

/// A parsed UID: type text as sent, decimal index, optional queue.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct RawUid<'a> {
    pub(crate) ty: &'a str,
    pub(crate) index: u32,
    pub(crate) queue: u32,
}

/// Why `parse_resource_uid` rejected a UID; the caller decides echo+exit or crash.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum UidError {
    /// No `:` or a bad number: the process echoes and exits.
    Invalid,
    /// Nothing after `:`: the process dereferences NULL.
    Empty,
}

pub(crate) fn parse(tok: &str) -> Result<RawUid<'_>, UidError> {
    let (ty, rest) = tok.split_once(':').ok_or(UidError::Invalid)?;
    if rest.is_empty() {
        return Err(UidError::Empty);
    }
    let (index, queue) = match rest.split_once("nq") {
        Some((i, q)) => (i, Some(q)),
        None => (rest, None),
    };
    let index = decimal(index).ok_or(UidError::Invalid)?;
    let queue = match queue {
        Some(q) => decimal(q).ok_or(UidError::Invalid)?,
        None => 0,
    };
    Ok(RawUid { ty, index, queue })
}

fn decimal(s: &str) -> Option<u32> {
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

/// One ethdev: its type and index.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Port {
    pub(crate) ty: PortType,
    pub(crate) index: u32,
}

impl Port {
    pub(crate) fn uid(self) -> String {
        format!("{}:{}", self.ty.as_str(), self.index)
    }
}

/// Result of `add` on the device table.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Added {
    Created,
    /// Ring already present: re-used, success.
    Reused,
    Failed,
}

/// The ethdev table: phy ports first, then added devices in creation order.
#[derive(Clone, Debug)]
pub(crate) struct PortTable {
    pub(crate) ports: Vec<Port>,
    rings: u32,
}

impl PortTable {
    pub(crate) fn new(phy_count: usize, rings: u32) -> PortTable {
        let ports = (0..phy_count)
            .map(|i| Port { ty: PortType::Phy, index: u32::try_from(i).unwrap_or(u32::MAX) })
            .collect();
        PortTable { ports, rings }
    }

    pub(crate) fn position(&self, ty: PortType, index: u32) -> Option<usize> {
        self.ports.iter().position(|p| p.ty == ty && p.index == index)
    }

    pub(crate) fn ring_exists(&self, index: u32) -> bool {
        index < self.rings
    }

    /// Adds a vhost/ring/pcap/memif/nullpmd/pipe device (callers filter the types that
    /// corrupt instead).
    pub(crate) fn add(&mut self, ty: PortType, index: u32) -> Added {
        let exists = self.position(ty, index).is_some();
        match ty {
            PortType::Ring if !self.ring_exists(index) => Added::Failed,
            PortType::Ring if exists => Added::Reused,
            _ if exists => Added::Failed,
            _ => {
                self.ports.push(Port { ty, index });
                Added::Created
            }
        }
    }

    /// Removes a device; `false` when not found.
    pub(crate) fn del(&mut self, ty: PortType, index: u32) -> bool {
        match self.position(ty, index) {
            Some(pos) => {
                self.ports.remove(pos);
                true
            }
            None => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_like_parse_resource_uid() {
        assert_eq!(parse("ring:01"), Ok(RawUid { ty: "ring", index: 1, queue: 0 }));
        assert_eq!(parse("phy:0nq1"), Ok(RawUid { ty: "phy", index: 0, queue: 1 }));
        assert_eq!(parse("ring"), Err(UidError::Invalid));
        assert_eq!(parse("ring:1x"), Err(UidError::Invalid));
        assert_eq!(parse("ring:"), Err(UidError::Empty));
        assert_eq!(PortType::from_prefix("ringX"), Some(PortType::Ring));
        assert_eq!(PortType::from_prefix("pipe"), None);
    }

    #[test]
    fn rings_are_reused_and_bounded() {
        let mut t = PortTable::new(2, 2);
        assert_eq!(t.add(PortType::Ring, 1), Added::Created);
        assert_eq!(t.add(PortType::Ring, 1), Added::Reused);
        assert_eq!(t.add(PortType::Ring, 2), Added::Failed);
        assert_eq!(t.add(PortType::Vhost, 0), Added::Created);
        assert_eq!(t.add(PortType::Vhost, 0), Added::Failed);
        assert!(t.del(PortType::Vhost, 0));
        assert!(!t.del(PortType::Vhost, 0));
    }
}
