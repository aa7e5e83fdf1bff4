//! The `status` reply of spp_vf and spp_mirror (`docs/wire-protocol.md` §6.3, §6.4), in the spaced style.

use super::spaced_json::{self, Sj};
use super::vf::{Component, Dir, Vf, VlanOp};
use crate::proc_type::ProcType;

/// How the classifier shows the MAC `default`.
const DEFAULT_MAC: [u8; 6] = [0, 0, 0, 0, 0, 1];

fn mac_text(mac: &[u8; 6]) -> String {
    if *mac == DEFAULT_MAC {
        return "default".to_owned();
    }
    mac.iter().map(|b| format!("{b:02X}")).collect::<Vec<_>>().join(":")
}

fn ids<'a>(ids: impl Iterator<Item = &'a u32>) -> Sj {
    Sj::Arr(ids.map(|i| Sj::Str(i.to_string())).collect())
}

impl Vf {
    pub(super) fn status(&self) -> String {
        let mut info = vec![
            ("client-id", Sj::Int(i64::from(self.cfg.client_id))),
            ("phy", self.phy_list()),
            ("vhost", ids(self.vhosts.iter())),
            ("ring", ids(self.rings.iter())),
            ("master-lcore", Sj::Int(i64::from(self.cfg.master_lcore))),
            ("core", Sj::Arr(self.cores())),
        ];
        if self.kind == ProcType::Vf {
            info.push(("classifier_table", self.classifier_table()));
        }
        spaced_json::status(Sj::Obj(info))
    }

    fn phy_list(&self) -> Sj {
        let mut out = Vec::new();
        for (i, &queues) in self.cfg.phy_queues.iter().enumerate() {
            if queues > 1 {
                out.extend((0..queues).map(|q| Sj::Str(format!("{i} nq {q}"))));
            } else {
                out.push(Sj::Str(i.to_string()));
            }
        }
        Sj::Arr(out)
    }

    fn cores(&self) -> Vec<Sj> {
        let mut out = Vec::new();
        for &lcore in &self.cfg.slave_lcores {
            let before = out.len();
            out.extend(self.components.iter().filter(|c| c.core == lcore).map(|c| self.component_entry(c)));
            if out.len() == before {
                out.push(unuse(lcore));
            }
        }
        // The oversize fault lists idle lcores that do not exist.
        let mut padded = 0;
        for lcore in 1000.. {
            if padded >= self.oversize {
                break;
            }
            let entry = unuse(lcore);
            padded += entry.render().len() + 2;
            out.push(entry);
        }
        out
    }

    fn component_entry(&self, c: &Component) -> Sj {
        let ports = |dir: Dir| {
            Sj::Arr(
                c.ports(dir)
                    .iter()
                    .map(|p| {
                        Sj::Obj(vec![("port", Sj::Str(p.display())), ("vlan", vlan(self.vlan(*p, dir)))])
                    })
                    .collect(),
            )
        };
        Sj::Obj(vec![
            ("core", Sj::Int(i64::from(c.core))),
            ("name", Sj::str(&c.name)),
            ("type", Sj::str(c.ty.as_str())),
            ("rx_port", ports(Dir::Rx)),
            ("tx_port", ports(Dir::Tx)),
        ])
    }

    fn classifier_table(&self) -> Sj {
        let mut entries: Vec<_> = self.classifier.iter().enumerate().collect();
        // By VLAN (untagged = 4095 last), `default` first within a VLAN, then insertion
        // order standing in for the real hash order.
        entries.sort_by_key(|(i, e)| (e.vlan.unwrap_or(4095), e.mac != DEFAULT_MAC, *i));
        Sj::Arr(
            entries
                .into_iter()
                .map(|(_, e)| {
                    let (ty, value) = match e.vlan {
                        Some(vid) => ("vlan", format!("{vid}/{}", mac_text(&e.mac))),
                        None => ("mac", mac_text(&e.mac)),
                    };
                    Sj::Obj(vec![
                        ("type", Sj::str(ty)),
                        ("value", Sj::Str(value)),
                        ("port", Sj::Str(e.port.display())),
                    ])
                })
                .collect(),
        )
    }
}

fn unuse(lcore: u32) -> Sj {
    Sj::Obj(vec![("core", Sj::Int(i64::from(lcore))), ("type", Sj::str("unuse"))])
}

fn vlan(op: VlanOp) -> Sj {
    let (operation, id, pcp) = match op {
        VlanOp::None => ("none", 0, 0),
        VlanOp::Add { vid, pcp } => ("add", vid, pcp),
        VlanOp::Del => ("del", 0, 0),
    };
    Sj::Obj(vec![
        ("operation", Sj::str(operation)),
        ("id", Sj::Int(i64::from(id))),
        ("pcp", Sj::Int(i64::from(pcp))),
    ])
}
