//! Parsing of the primary's `flow validate|create|destroy` commands (`docs/wire-protocol.md` §5.1.10) into
//! rules. Any syntax error is one answer, `Flow command invalid argument`, so the parser
//! returns `None` without saying why. Dumping and execution live in `flow_table`.

/// Pattern item kinds the primary supports.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum ItemKind {
    Eth,
    Vlan,
}

/// The header fields of one item spec/last/mask, host order. eth: `macs` = dst, src,
/// `words[0]` = type; vlan: `words` = tci, inner_type.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Header {
    pub(crate) macs: [[u8; 6]; 2],
    pub(crate) words: [u16; 2],
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Item {
    pub(crate) kind: ItemKind,
    pub(crate) spec: Option<Header>,
    pub(crate) last: Option<Header>,
    pub(crate) mask: Option<Header>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Action {
    Jump(u32),
    Queue(u32),
    PopVlan,
    PushVlan(u16),
    SetVlanVid(u16),
    SetVlanPcp(u8),
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Attr {
    pub(crate) group: u32,
    pub(crate) priority: u32,
    pub(crate) ingress: bool,
    pub(crate) egress: bool,
    pub(crate) transfer: bool,
}

/// A rule without its id (the table assigns ids).
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct RuleBody {
    pub(crate) attr: Attr,
    pub(crate) items: Vec<Item>,
    pub(crate) actions: Vec<Action>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Target {
    One(u32),
    All,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum FlowCmd {
    Validate(u32, RuleBody),
    Create(u32, RuleBody),
    Destroy(u32, Target),
}

/// Where a field lives inside a [`Header`].
#[derive(Clone, Copy)]
enum Slot {
    Mac(usize),
    Bits { word: usize, shift: u32, width: u32 },
}

fn slot(kind: ItemKind, name: &str) -> Option<Slot> {
    let bits = |word, shift, width| Some(Slot::Bits { word, shift, width });
    match (kind, name) {
        (ItemKind::Eth, "dst") => Some(Slot::Mac(0)),
        (ItemKind::Eth, "src") => Some(Slot::Mac(1)),
        (ItemKind::Eth, "type") => bits(0, 0, 16),
        (ItemKind::Vlan, "tci") => bits(0, 0, 16),
        (ItemKind::Vlan, "pcp") => bits(0, 13, 3),
        (ItemKind::Vlan, "dei") => bits(0, 12, 1),
        (ItemKind::Vlan, "vid") => bits(0, 0, 12),
        (ItemKind::Vlan, "inner_type") => bits(0, 0, 16),
        _ => None,
    }
    .map(|s| match (kind, name, s) {
        // inner_type is the second word of a vlan header.
        (ItemKind::Vlan, "inner_type", Slot::Bits { shift, width, .. }) => {
            Slot::Bits { word: 1, shift, width }
        }
        (_, _, s) => s,
    })
}

/// Writes `value` (a MAC or a number, per slot) into `h`.
fn store(h: &mut Header, slot: Slot, value: &str) -> Option<()> {
    match slot {
        Slot::Mac(i) => h.macs[i] = parse_mac(value)?,
        Slot::Bits { word, shift, width } => {
            let v = parse_c_number(value)?;
            if v >> width != 0 {
                return None;
            }
            set_bits(&mut h.words[word], shift, width, v);
        }
    }
    Some(())
}

fn set_bits(word: &mut u16, shift: u32, width: u32, value: u64) {
    let field = ((1u32 << width) - 1) << shift;
    let v = (u32::try_from(value).unwrap_or(0) << shift) & field;
    *word = u16::try_from((u32::from(*word) & !field) | v).unwrap_or(u16::MAX);
}

/// All ones for the whole field slot: `is` masks the full header word (the real dump shows
/// `"tci":"0xffff"` for `vid is 100`, `docs/wire-protocol.md` §6.1).
fn full_mask(h: &mut Header, slot: Slot) {
    match slot {
        Slot::Mac(i) => h.macs[i] = [0xff; 6],
        Slot::Bits { word, .. } => h.words[word] = 0xffff,
    }
}

fn prefix_mask(h: &mut Header, slot: Slot, len: u64) -> Option<()> {
    match slot {
        Slot::Mac(i) => {
            let len = usize::try_from(len).ok().filter(|l| *l <= 48)?;
            let bits = if len == 0 { 0 } else { u64::MAX << (64 - len) >> 16 };
            h.macs[i].copy_from_slice(&bits.to_be_bytes()[2..]);
        }
        Slot::Bits { word, shift, width } => {
            let len = u32::try_from(len).ok().filter(|l| *l <= width)?;
            let ones = if len == 0 { 0 } else { ((1u64 << len) - 1) << (width - len) };
            set_bits(&mut h.words[word], shift, width, ones);
        }
    }
    Some(())
}

/// `xx:xx:xx:xx:xx:xx`, hex groups of one or two digits.
pub(crate) fn parse_mac(s: &str) -> Option<[u8; 6]> {
    let mut mac = [0u8; 6];
    let mut groups = s.split(':');
    for byte in &mut mac {
        let g = groups.next().filter(|g| (1..=2).contains(&g.len()))?;
        *byte = u8::from_str_radix(g, 16).ok()?;
    }
    groups.next().is_none().then_some(mac)
}

/// C `strtoul(s, &end, 0)` requiring the whole token: `0x` hex, leading `0` octal.
pub(crate) fn parse_c_number(s: &str) -> Option<u64> {
    let (digits, radix) = if let Some(h) = s.strip_prefix("0x").or_else(|| s.strip_prefix("0X")) {
        (h, 16)
    } else if s.len() > 1 && s.starts_with('0') {
        (&s[1..], 8)
    } else {
        (s, 10)
    };
    if digits.is_empty() || !digits.chars().all(|c| c.is_digit(radix)) {
        return None;
    }
    u64::from_str_radix(digits, radix).ok()
}

fn decimal(s: &str) -> Option<u32> {
    s.bytes().all(|b| b.is_ascii_digit()).then(|| s.parse().ok()).flatten()
}

struct Cursor<'a> {
    toks: &'a [&'a str],
    at: usize,
}

impl<'a> Cursor<'a> {
    fn next(&mut self) -> Option<&'a str> {
        let t = self.toks.get(self.at).copied();
        self.at += 1;
        t
    }

    fn expect(&mut self, want: &str) -> Option<()> {
        (self.next()? == want).then_some(())
    }

    fn number(&mut self) -> Option<u64> {
        parse_c_number(self.next()?)
    }
}

/// Parses a whole `flow …` command (tokens include `flow`).
pub(crate) fn parse(toks: &[&str]) -> Option<FlowCmd> {
    let mut c = Cursor { toks, at: 1 };
    let sub = c.next()?;
    let port = phy_port(c.next()?)?;
    let cmd = match sub {
        "validate" => FlowCmd::Validate(port, rule_body(&mut c)?),
        "create" => FlowCmd::Create(port, rule_body(&mut c)?),
        "destroy" => match c.next()? {
            "ALL" => FlowCmd::Destroy(port, Target::All),
            id => FlowCmd::Destroy(port, Target::One(u32::try_from(parse_c_number(id)?).ok()?)),
        },
        _ => return None,
    };
    c.next().is_none().then_some(cmd)
}

fn phy_port(uid: &str) -> Option<u32> {
    let rest = uid.strip_prefix("phy:")?;
    let index = rest.split_once("nq").map_or(rest, |(i, _)| i);
    decimal(index)
}

fn rule_body(c: &mut Cursor<'_>) -> Option<RuleBody> {
    let mut attr = Attr::default();
    loop {
        match c.next()? {
            "pattern" => break,
            "group" => attr.group = decimal(c.next()?)?,
            "priority" => attr.priority = decimal(c.next()?)?,
            "ingress" => attr.ingress = true,
            "egress" => attr.egress = true,
            "transfer" => attr.transfer = true,
            _ => return None,
        }
    }
    let items = items(c)?;
    c.expect("actions")?;
    Some(RuleBody { attr, items, actions: actions(c)? })
}

fn items(c: &mut Cursor<'_>) -> Option<Vec<Item>> {
    let mut items = Vec::new();
    loop {
        let kind = match c.next()? {
            "end" => return Some(items),
            "eth" => ItemKind::Eth,
            "vlan" => ItemKind::Vlan,
            _ => return None,
        };
        let mut item = Item { kind, spec: None, last: None, mask: None };
        loop {
            let name = c.next()?;
            if name == "/" {
                break;
            }
            let slot = slot(kind, name)?;
            let op = c.next()?;
            let value = c.next()?;
            match op {
                "is" => {
                    store(item.spec.get_or_insert_with(Header::default), slot, value)?;
                    full_mask(item.mask.get_or_insert_with(Header::default), slot);
                }
                "spec" => store(item.spec.get_or_insert_with(Header::default), slot, value)?,
                "last" => store(item.last.get_or_insert_with(Header::default), slot, value)?,
                "mask" => store(item.mask.get_or_insert_with(Header::default), slot, value)?,
                "prefix" => {
                    let len = parse_c_number(value)?;
                    prefix_mask(item.mask.get_or_insert_with(Header::default), slot, len)?;
                }
                _ => return None,
            }
        }
        items.push(item);
    }
}

fn actions(c: &mut Cursor<'_>) -> Option<Vec<Action>> {
    let mut actions = Vec::new();
    loop {
        let action = match c.next()? {
            "end" => return Some(actions),
            "jump" => keyed(c, "group").and_then(|v| u32::try_from(v).ok()).map(Action::Jump)?,
            "queue" => keyed(c, "index").and_then(|v| u32::try_from(v).ok()).map(Action::Queue)?,
            "of_pop_vlan" => Action::PopVlan,
            "of_push_vlan" => {
                keyed(c, "ethertype").and_then(|v| u16::try_from(v).ok()).map(Action::PushVlan)?
            }
            "of_set_vlan_vid" => {
                keyed(c, "vlan_vid").and_then(|v| u16::try_from(v).ok()).map(Action::SetVlanVid)?
            }
            "of_set_vlan_pcp" => {
                keyed(c, "vlan_pcp").filter(|v| *v <= 7).map(|v| Action::SetVlanPcp(v as u8))?
            }
            _ => return None,
        };
        c.expect("/")?;
        actions.push(action);
    }
}

fn keyed(c: &mut Cursor<'_>, key: &str) -> Option<u64> {
    c.expect(key)?;
    c.number()
}
