use super::*;
use crate::proc_type::ProcType;
use tokio::io::{DuplexStream, duplex};

const F: usize = 256;

fn settings(queue_depth: usize) -> ActorSettings {
    ActorSettings {
        command_timeout: Duration::from_millis(500),
        exit_timeout: Duration::from_millis(200),
        queue_depth,
        text_grace: Duration::from_millis(100),
        metrics: Arc::new(AgentMetrics::new().unwrap()),
    }
}

/// Attaches an actor to one end of an in-memory pipe; returns its handle and the
/// process's end.
fn start(name: ProcName, queue_depth: usize) -> (Registry, ProcessHandle, DuplexStream) {
    let (ours, theirs) = duplex(1 << 20);
    let registry = Registry::default();
    let frame = name.ty.uses_frames().then_some(F);
    let decoder = ReplyDecoder::new(frame);
    let attached = attach((name, "test"), ours, decoder, BytesMut::new(), &registry, &settings(queue_depth));
    assert!(attached.is_none());
    let handle = registry.snapshot().pop().expect("registered");
    (registry, handle, theirs)
}

async fn read_command(peer: &mut DuplexStream) -> String {
    let mut buf = vec![0; 4096];
    let n = peer.read(&mut buf).await.unwrap();
    String::from_utf8(buf[..n].to_vec()).unwrap()
}

fn padded(text: &[u8]) -> Vec<u8> {
    let mut frame = text.to_vec();
    frame.resize(F, 0);
    frame
}

#[tokio::test]
async fn framed_json_reply_and_padding_between_commands() {
    let (_registry, handle, mut peer) = start(ProcName::primary(), 4);
    let call = tokio::spawn({
        let handle = handle.clone();
        async move { handle.call("clear".into()).await }
    });
    assert_eq!(read_command(&mut peer).await, "clear");
    peer.write_all(&padded(br#"{"result":"succeeded","command":"clear"}"#)).await.unwrap();
    let reply = call.await.unwrap().unwrap();
    assert_eq!(reply, Reply::Json(serde_json::json!({"result": "succeeded", "command": "clear"})));

    let call = tokio::spawn(async move { handle.call("patch reset".into()).await });
    assert_eq!(read_command(&mut peer).await, "patch reset");
    peer.write_all(&padded(b"patch\0reset")).await.unwrap();
    assert_eq!(call.await.unwrap().unwrap(), Reply::Text("patch reset".into()));
}

#[tokio::test(start_paused = true)]
async fn deadline_deregisters_and_closes_before_answering() {
    let (registry, handle, mut peer) = start(ProcName::secondary(ProcType::Vf, 2), 4);
    let call = tokio::spawn(async move { handle.call("status".into()).await });
    assert_eq!(read_command(&mut peer).await, "status");
    let answer = call.await.unwrap();
    assert_eq!(answer, Err(ProcessError::Timeout { proc: ProcName::secondary(ProcType::Vf, 2), ms: 500 }));
    assert!(registry.is_empty());
    let mut rest = Vec::new();
    assert_eq!(peer.read_to_end(&mut rest).await.unwrap(), 0, "connection closed");
}

#[tokio::test]
async fn eof_mid_command_is_a_lost_connection() {
    let (registry, handle, mut peer) = start(ProcName::secondary(ProcType::Nfv, 1), 4);
    let call = tokio::spawn(async move { handle.call("status".into()).await });
    assert_eq!(read_command(&mut peer).await, "status");
    peer.write_all(b"{\"client-id\":1,").await.unwrap();
    drop(peer);
    let answer = call.await.unwrap();
    assert_eq!(answer, Err(ProcessError::Disconnected { proc: ProcName::secondary(ProcType::Nfv, 1) }));
    assert!(registry.is_empty());
}

#[tokio::test]
async fn eof_while_idle_deregisters_at_once() {
    let (registry, _handle, peer) = start(ProcName::secondary(ProcType::Pcap, 4), 4);
    drop(peer);
    for _ in 0..100 {
        if registry.is_empty() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("EOF did not deregister the process");
}

#[tokio::test]
async fn invalid_utf8_json_is_a_bad_reply_and_drops_the_connection() {
    let (registry, handle, mut peer) = start(ProcName::secondary(ProcType::Vf, 2), 4);
    let call = tokio::spawn(async move { handle.call("status".into()).await });
    read_command(&mut peer).await;
    peer.write_all(b"{ \"a\": \"\xff\" }").await.unwrap();
    let answer = call.await.unwrap();
    let proc = ProcName::secondary(ProcType::Vf, 2);
    assert_eq!(answer, Err(ProcessError::BadReply { proc, reason: "invalid UTF-8".into() }));
    assert!(registry.is_empty());
}

#[tokio::test]
async fn unsolicited_bytes_drop_the_connection() {
    let (registry, _handle, mut peer) = start(ProcName::secondary(ProcType::Vf, 2), 4);
    peer.write_all(b"hello").await.unwrap();
    let mut rest = Vec::new();
    assert_eq!(peer.read_to_end(&mut rest).await.unwrap(), 0);
    assert!(registry.is_empty());
}

#[tokio::test]
async fn a_full_queue_answers_busy_without_waiting() {
    let (_registry, handle, mut peer) = start(ProcName::secondary(ProcType::Vf, 2), 1);
    let first = tokio::spawn({
        let handle = handle.clone();
        async move { handle.call("status".into()).await }
    });
    read_command(&mut peer).await;
    // The actor is busy with the first command: one more fits in the queue...
    let second = tokio::spawn({
        let handle = handle.clone();
        async move { handle.call("status".into()).await }
    });
    tokio::task::yield_now().await;
    while handle.queued() == 0 {
        tokio::task::yield_now().await;
    }
    // ...and the next one is refused at once.
    assert_eq!(handle.call("status".into()).await, Err(ProcessError::Busy { proc: handle.name() }));
    peer.write_all(br#"{ "results": [ { "result": "success" } ] }"#).await.unwrap();
    assert!(first.await.unwrap().is_ok());
    assert_eq!(read_command(&mut peer).await, "status");
    peer.write_all(br#"{ "results": [ { "result": "success" } ] }"#).await.unwrap();
    assert!(second.await.unwrap().is_ok());
}

#[tokio::test]
async fn exit_deregisters_even_without_a_reply() {
    let (registry, handle, mut peer) = start(ProcName::secondary(ProcType::Mirror, 3), 4);
    let exit = tokio::spawn(async move { handle.exit().await });
    assert_eq!(read_command(&mut peer).await, "exit");
    drop(peer);
    exit.await.unwrap();
    assert!(registry.is_empty());
}
