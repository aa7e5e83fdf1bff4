//! The primary's `launch` (`docs/wire-protocol.md` §5.1.11): the real primary forks the named secondary,
//! which then connects to the controller given by its own `-s IP:PORT` option. The
//! simulator does the same by starting a simulated process of that type.

use super::flow::parse_c_number;
use crate::proc_type::ProcType;
use std::net::SocketAddr;

/// A secondary the primary was asked to start.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Launch {
    pub(crate) ty: ProcType,
    pub(crate) client_id: u32,
    pub(crate) ctl: SocketAddr,
}

/// `launch {id} {proc_name} {eal…} -- {app…}`; `None` when nothing would start
/// (unknown process name, no usable `-s`), which the real primary does not report either.
pub(crate) fn parse(toks: &[&str]) -> Option<Launch> {
    let client_id = u32::try_from(parse_c_number(toks.get(1)?)?).ok()?;
    let ty = match *toks.get(2)? {
        "spp_nfv" => ProcType::Nfv,
        "spp_vf" => ProcType::Vf,
        "spp_mirror" => ProcType::Mirror,
        "spp_pcap" => ProcType::Pcap,
        _ => return None,
    };
    let app = toks.iter().position(|t| *t == "--").map_or(&[][..], |i| &toks[i + 1..]);
    let server = app.windows(2).find(|w| w[0] == "-s").map(|w| w[1])?;
    Some(Launch { ty, client_id, ctl: server.parse().ok()? })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_type_id_and_server() {
        let toks: Vec<&str> =
            "launch 3 spp_vf -l 1,2 -m 512 -- --client-id 3 -s 127.0.0.1:6666".split(' ').collect();
        let l = parse(&toks).expect("a launch");
        assert_eq!((l.ty, l.client_id, l.ctl.port()), (ProcType::Vf, 3, 6666));
        assert_eq!(parse(&["launch", "1", "spp_foo", "--", "-s", "127.0.0.1:1"]), None);
        assert_eq!(parse(&["launch", "1", "spp_nfv", "-s", "127.0.0.1:1"]), None);
    }
}
