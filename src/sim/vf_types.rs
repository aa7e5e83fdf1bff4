//! The vocabulary of the spp_vf/spp_mirror model: ports, directions, component types,
//! VLAN operations, components and classifier entries.

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum VfPortType {
    Phy,
    Vhost,
    Ring,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct VfPort {
    pub(crate) ty: VfPortType,
    pub(crate) index: u32,
    pub(crate) queue: Option<u32>,
}

impl VfPort {
    /// Display form of `docs/wire-protocol.md` §4.2 (`phy:0 nq 1`).
    pub(crate) fn display(self) -> String {
        let ty = match self.ty {
            VfPortType::Phy => "phy",
            VfPortType::Vhost => "vhost",
            VfPortType::Ring => "ring",
        };
        match self.queue {
            Some(q) => format!("{ty}:{} nq {q}", self.index),
            None => format!("{ty}:{}", self.index),
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Dir {
    Rx,
    Tx,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum CompType {
    Forward,
    Merge,
    Classifier,
    Mirror,
}

impl CompType {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            CompType::Forward => "forward",
            CompType::Merge => "merge",
            CompType::Classifier => "classifier",
            CompType::Mirror => "mirror",
        }
    }

    /// Most rx and tx ports a component of this type may have.
    pub(crate) fn limits(self) -> (usize, usize) {
        match self {
            CompType::Forward => (1, 1),
            CompType::Merge => (usize::MAX, 1),
            CompType::Classifier => (1, usize::MAX),
            CompType::Mirror => (1, 2),
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum VlanOp {
    None,
    /// -1 for a value that was not sent.
    Add {
        vid: i32,
        pcp: i32,
    },
    Del,
}

#[derive(Clone, Debug)]
pub(crate) struct Component {
    pub(crate) name: String,
    pub(crate) core: u32,
    pub(crate) ty: CompType,
    pub(crate) rx: Vec<VfPort>,
    pub(crate) tx: Vec<VfPort>,
}

impl Component {
    pub(crate) fn ports(&self, dir: Dir) -> &Vec<VfPort> {
        if dir == Dir::Rx { &self.rx } else { &self.tx }
    }
}

/// One classifier entry; `vlan` is `None` for `mac` entries (internally VLAN 4095).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct ClassifierEntry {
    pub(crate) vlan: Option<u16>,
    pub(crate) mac: [u8; 6],
    pub(crate) port: VfPort,
}
