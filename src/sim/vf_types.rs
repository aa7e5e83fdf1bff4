//! The vocabulary of the spp_vf/spp_mirror model: ports, directions, component types,
//! VLAN operations, components and classifier entries.

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum VfPortType {
    Phy,
    Vhost,
    Ring,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct VfPort {
    pub ty: VfPortType,
    pub index: u32,
    pub queue: Option<u32>,
}

impl VfPort {
    /// Display form of `docs/wire-protocol.md` §4.2 (`phy:0 nq 1`).
    pub fn display(self) -> String {
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
pub enum Dir {
    Rx,
    Tx,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CompType {
    Forward,
    Merge,
    Classifier,
    Mirror,
}

impl CompType {
    pub fn as_str(self) -> &'static str {
        match self {
            CompType::Forward => "forward",
            CompType::Merge => "merge",
            CompType::Classifier => "classifier",
            CompType::Mirror => "mirror",
        }
    }

    /// Most rx and tx ports a component of this type may have.
    pub fn limits(self) -> (usize, usize) {
        match self {
            CompType::Forward => (1, 1),
            CompType::Merge => (usize::MAX, 1),
            CompType::Classifier => (1, usize::MAX),
            CompType::Mirror => (1, 2),
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum VlanOp {
    None,
    /// -1 for a value that was not sent.
    Add {
        vid: i32,
        pcp: i32,
    },
    Del,
}

#[derive(Clone, Debug)]
pub struct Component {
    pub name: String,
    pub core: u32,
    pub ty: CompType,
    pub rx: Vec<VfPort>,
    pub tx: Vec<VfPort>,
}

impl Component {
    pub fn ports(&self, dir: Dir) -> &Vec<VfPort> {
        if dir == Dir::Rx { &self.rx } else { &self.tx }
    }
}

/// One classifier entry; `vlan` is `None` for `mac` entries (internally VLAN 4095).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ClassifierEntry {
    pub vlan: Option<u16>,
    pub mac: [u8; 6],
    pub port: VfPort,
}
