//! The kinds of SPP process and how each is named on the wire, in URLs and in messages.
//!
//! Both the agent and the simulator use this; neither compares type strings elsewhere.

use std::fmt;

/// The five SPP process types.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ProcType {
    Primary,
    Nfv,
    Vf,
    Mirror,
    Pcap,
}

impl ProcType {
    /// The secondary types, in the order the agent lists them nowhere in particular.
    pub(crate) const SECONDARIES: [ProcType; 4] =
        [ProcType::Nfv, ProcType::Vf, ProcType::Mirror, ProcType::Pcap];

    /// The spelling used by `process_type` in the handshake and by the REST API.
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            ProcType::Primary => "primary",
            ProcType::Nfv => "nfv",
            ProcType::Vf => "vf",
            ProcType::Mirror => "mirror",
            ProcType::Pcap => "pcap",
        }
    }

    /// Parses a secondary's `process_type` from the `_get_client_id` reply.
    pub(crate) fn from_secondary(s: &str) -> Option<ProcType> {
        Self::SECONDARIES.into_iter().find(|t| t.as_str() == s)
    }

    /// Primary and nfv reply with fixed-size NUL-padded frames; the others send bare text.
    pub(crate) fn uses_frames(self) -> bool {
        matches!(self, ProcType::Primary | ProcType::Nfv)
    }
}

impl fmt::Display for ProcType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Identifies one process in messages: `primary` or `<type>(<id>)`, e.g. `vf(2)`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(crate) struct ProcName {
    pub(crate) ty: ProcType,
    /// `None` only for the primary.
    pub(crate) id: Option<u32>,
}

impl ProcName {
    pub(crate) fn primary() -> Self {
        ProcName { ty: ProcType::Primary, id: None }
    }

    pub(crate) fn secondary(ty: ProcType, id: u32) -> Self {
        ProcName { ty, id: Some(id) }
    }
}

impl fmt::Display for ProcName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.id {
            Some(id) => write!(f, "{}({})", self.ty, id),
            None => f.write_str(self.ty.as_str()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_render_like_the_original_logs() {
        assert_eq!(ProcName::primary().to_string(), "primary");
        assert_eq!(ProcName::secondary(ProcType::Vf, 2).to_string(), "vf(2)");
        assert_eq!(ProcType::from_secondary("mirror"), Some(ProcType::Mirror));
        assert_eq!(ProcType::from_secondary("primary"), None);
    }
}
