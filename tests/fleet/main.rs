//! The fleet test: eight hosts, each a network namespace running `spp-ctl agent
//! --simulate` on its own 198.18.x.N, found by two gateway replicas through one DNS name
//! that dnsmasq serves (like a Kubernetes headless Service). Needs root, iproute2 and
//! dnsmasq; prints the times it measures (time to mark a host down, to discover one).

mod dns;
mod fleet;
mod http;
mod net;
mod procs;
mod replica;

use fleet::{Fleet, TIMING, host_name};
use http::{eventually, throughout};
use replica::{Cluster, Replica};
use std::time::Duration;

const HEALTH: Duration = TIMING.health;
const DISCOVERY: Duration = TIMING.discovery;
/// Time for a probe or a discovery round to finish and for the scenario to see its
/// result, on a loaded two-core machine.
const SLACK: Duration = Duration::from_secs(1);
/// Processes start, agents get simulated processes, replicas run a first discovery.
const STARTUP: Duration = Duration::from_secs(20);
/// What `agent --simulate` attaches, as `GET /v1/processes` lists it.
const PROCESSES: [&str; 5] = ["mirror:3", "nfv:1", "pcap:4", "primary", "vf:2"];

#[test]
fn eight_hosts_behind_two_gateway_replicas() {
    let mut fleet = Fleet::start(8).unwrap_or_else(|e| panic!("fleet test: {e}"));
    both_replicas_serve_every_host(&fleet, "at start", STARTUP);
    a_put_through_one_replica_is_seen_through_the_other(&fleet);
    dns_changes_add_and_remove_hosts(&mut fleet);
    a_stopped_agent_is_down_listed_in_errors_then_back(&mut fleet);
    with_one_replica_killed_the_other_serves_every_host(&mut fleet);
}

/// Every listed host `up` in both inventories and its processes in both fan-outs.
fn both_replicas_serve_every_host(fleet: &Fleet, when: &str, deadline: Duration) {
    let count = fleet.listed.len();
    eventually(&format!("{when}: replicas list all {count} hosts up"), deadline, || inventories(fleet, None));
    eventually(&format!("{when}: fan-outs return all {count} hosts' processes"), deadline, || {
        fan_outs(fleet, None)
    });
}

/// Each replica lists the hosts in DNS, all `up` but `down`.
fn inventories(fleet: &Fleet, down: Option<u8>) -> Result<(), String> {
    let expected = fleet.expected_hosts(down);
    fleet.on_replicas(|r| same("hosts", r.hosts(&fleet.http)?, expected.clone()))
}

/// Each replica's fan-out holds every other host's processes and `down` in `errors`.
fn fan_outs(fleet: &Fleet, down: Option<u8>) -> Result<(), String> {
    let hosts = fleet.listed.iter().filter(|n| Some(**n) != down);
    let processes = hosts.map(|n| (host_name(*n), PROCESSES.map(str::to_owned).into())).collect();
    let expected = Cluster { processes, errors: down.map(host_name).into_iter().collect() };
    fleet.on_replicas(|r| same("cluster", r.cluster(&fleet.http)?, expected.clone()))
}

/// The agents hold the state: what one replica changed, the other reads.
fn a_put_through_one_replica_is_seen_through_the_other(fleet: &Fleet) {
    let (a, b) = (&fleet.replicas[0], &fleet.replicas[1]);
    let host = host_name(2);
    let status = |replica: &Replica| {
        let nfv = fleet.http.get(&replica.host_url(&host, "nfvs/1")).and_then(|a| a.json(200));
        nfv.map(|n| n["status"].clone()).unwrap_or_else(|e| panic!("GET {host} nfvs/1: {e}"))
    };
    let start = (a, b, r#"{"action": "start"}"#, "idling", "running");
    let stop = (b, a, r#"{"action": "stop"}"#, "running", "idling");
    for (by, seen_by, body, before, after) in [start, stop] {
        assert_eq!(status(seen_by), before, "{host} nfv 1 before the PUT");
        let put = fleet.http.put(&by.host_url(&host, "nfvs/1/forward"), body).map(|p| p.status);
        assert_eq!(put, Ok(204), "PUT {body} through {}", by.proc.name);
        assert_eq!(status(seen_by), after, "PUT through {}, GET through {}", by.proc.name, seen_by.proc.name);
    }
    http::report("a PUT through either replica is seen through the other");
}

/// A ninth host put into DNS is found within a discovery interval; one taken out of DNS
/// (its agent still running) leaves both tables.
fn dns_changes_add_and_remove_hosts(fleet: &mut Fleet) {
    fleet.add_host(9).unwrap_or_else(|e| panic!("host 9: {e}"));
    let info = format!("http://{}:7777/info", fleet.net.addr(9));
    eventually("host-9's agent answers", STARTUP, || fleet.http.get(&info).and_then(|a| a.json(200)));
    fleet.dns_add(9).unwrap_or_else(|e| panic!("DNS add: {e}"));
    eventually("host-9 added to DNS: listed by both replicas", DISCOVERY + SLACK, || {
        fleet.on_replicas(|r| {
            r.hosts(&fleet.http)?.contains_key("host-9").then_some(()).ok_or("not listed".into())
        })
    });
    both_replicas_serve_every_host(fleet, "host-9 discovered", HEALTH + SLACK);
    fleet.dns_remove(1).unwrap_or_else(|e| panic!("DNS remove: {e}"));
    let expected = fleet.expected_hosts(None);
    eventually("host-1 removed from DNS: gone from both replicas", DISCOVERY + SLACK, || {
        fleet.on_replicas(|r| same("hosts", r.hosts(&fleet.http)?, expected.clone()))
    });
    both_replicas_serve_every_host(fleet, "host-1 removed", SLACK);
}

/// The agent of host-3 stops while DNS still lists it: both replicas mark it down within
/// the health interval and keep it (issue 10 item 5), the fan-out reports it in `errors`,
/// a request for it fails at once with 503, and it comes back when the agent restarts.
fn a_stopped_agent_is_down_listed_in_errors_then_back(fleet: &mut Fleet) {
    fleet.stop_agent(3).unwrap_or_else(|e| panic!("stopping host-3's agent: {e}"));
    let down = Some(3);
    eventually("host-3's agent exited: marked down by both replicas", HEALTH + SLACK, || {
        inventories(fleet, down)
    });
    throughout("host-3 stays listed as down across two discovery rounds", DISCOVERY * 2 + HEALTH, || {
        fleet.on_replicas(|r| same("host-3", r.hosts(&fleet.http)?.remove("host-3"), Some("down".into())))
    });
    let refused_at_once = |r: &Replica| match fleet.http.get(&r.host_url("host-3", "processes"))? {
        answer if answer.status == 503 => Ok(()),
        answer => Err(format!("GET /v1/hosts/host-3/processes: {answer:?}, expected 503")),
    };
    fan_outs(fleet, down)
        .and_then(|()| fleet.on_replicas(refused_at_once))
        .unwrap_or_else(|e| panic!("fleet: with host-3 down: {e}"));
    http::report("host-3 down: in the fan-outs' errors, 503 through both replicas");
    fleet.restart_agent(3).unwrap_or_else(|e| panic!("restarting host-3's agent: {e}"));
    both_replicas_serve_every_host(fleet, "host-3's agent restarted", HEALTH + 2 * SLACK);
}

/// Replica A dies; from the first request on, B answers for every host.
fn with_one_replica_killed_the_other_serves_every_host(fleet: &mut Fleet) {
    let mut killed = fleet.replicas.remove(0);
    killed.proc.kill();
    assert!(fleet.http.get(&format!("{}/v1/hosts", killed.url)).is_err(), "replica A still answers");
    throughout("replica A killed: B lists, fans out to and proxies every host", HEALTH * 3, || {
        inventories(fleet, None)?;
        fan_outs(fleet, None)?;
        fleet.listed.iter().try_for_each(|n| {
            let url = fleet.replicas[0].host_url(&host_name(*n), "processes");
            fleet.http.get(&url)?.json(200).map(|_| ())
        })
    });
}

fn same<T: PartialEq + std::fmt::Debug>(what: &str, got: T, want: T) -> Result<(), String> {
    if got == want { Ok(()) } else { Err(format!("{what}: got {got:?}, want {want:?}")) }
}
