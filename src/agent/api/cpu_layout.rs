//! `GET /v1/cpu_layout` computed natively from `/sys/devices/system/cpu`, with the same
//! result as SPP's `cpu_layout.py --json` (the original ran that helper script).

use serde_json::{Value, json};
use std::fs;
use std::path::Path;

/// A socket id and its cores; a core id and its lcores.
type Socket = (u64, Vec<(u64, Vec<u32>)>);

/// Sockets in order of their first CPU, cores in order of their first CPU, lcores
/// ascending. An unreadable topology gives an empty list.
pub(crate) fn read(root: &Path) -> Value {
    let max = fs::read_to_string(root.join("kernel_max")).ok().and_then(|s| s.trim().parse::<u32>().ok());
    let mut sockets: Vec<Socket> = Vec::new();
    for cpu in 0..=max.unwrap_or(0) {
        let topology = root.join(format!("cpu{cpu}/topology"));
        let (Some(core), Some(socket)) =
            (number(&topology.join("core_id")), number(&topology.join("physical_package_id")))
        else {
            continue;
        };
        let index = sockets.iter().position(|(id, _)| *id == socket).unwrap_or_else(|| {
            sockets.push((socket, Vec::new()));
            sockets.len() - 1
        });
        let cores = &mut sockets[index].1;
        match cores.iter_mut().find(|(id, _)| *id == core) {
            Some((_, lcores)) => lcores.push(cpu),
            None => cores.push((core, vec![cpu])),
        }
    }
    let sockets = sockets.into_iter().map(|(socket, cores)| {
        let cores: Vec<Value> =
            cores.into_iter().map(|(core, lcores)| json!({"core_id": core, "lcores": lcores})).collect();
        json!({"socket_id": socket, "cores": cores})
    });
    Value::Array(sockets.collect())
}

fn number(path: &Path) -> Option<u64> {
    fs::read_to_string(path).ok()?.trim().parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pyjson;

    fn cpu(root: &Path, n: u32, core: u32, socket: u32) {
        let dir = root.join(format!("cpu{n}/topology"));
        fs::create_dir_all(&dir).unwrap();
        fs::write(dir.join("core_id"), format!("{core}\n")).unwrap();
        fs::write(dir.join("physical_package_id"), format!("{socket}\n")).unwrap();
    }

    #[test]
    fn hyperthreads_group_by_core_like_the_spec_example() {
        let tmp = tempfile::tempdir().unwrap();
        fs::write(tmp.path().join("kernel_max"), "8191\n").unwrap();
        for n in 0..8 {
            cpu(tmp.path(), n, n % 4, 0);
        }
        let expected = r#"[{"socket_id": 0, "cores": [{"core_id": 0, "lcores": [0, 4]}, {"core_id": 1, "lcores": [1, 5]}, {"core_id": 2, "lcores": [2, 6]}, {"core_id": 3, "lcores": [3, 7]}]}]"#;
        assert_eq!(pyjson::to_string(&read(tmp.path())), expected);
    }

    #[test]
    fn sockets_in_order_of_first_cpu_and_missing_cpus_skipped() {
        let tmp = tempfile::tempdir().unwrap();
        fs::write(tmp.path().join("kernel_max"), "5").unwrap();
        cpu(tmp.path(), 0, 8, 1);
        cpu(tmp.path(), 1, 3, 0);
        cpu(tmp.path(), 3, 8, 1);
        let expected = r#"[{"socket_id": 1, "cores": [{"core_id": 8, "lcores": [0, 3]}]}, {"socket_id": 0, "cores": [{"core_id": 3, "lcores": [1]}]}]"#;
        assert_eq!(pyjson::to_string(&read(tmp.path())), expected);
        assert_eq!(read(&tmp.path().join("absent")), serde_json::json!([]));
    }
}
