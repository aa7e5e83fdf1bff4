use super::*;

const F: usize = 64;

fn frame(text: &[u8]) -> Vec<u8> {
    let mut f = text.to_vec();
    f.resize(F, 0);
    f
}

/// Feeds `wire` in pieces of `step` bytes until a reply completes.
fn decode_in_steps(dec: &mut ReplyDecoder, wire: &[u8], step: usize) -> (usize, RawReply) {
    let mut at = 0;
    while at < wire.len() {
        let end = (at + step).min(wire.len());
        let (used, progress) = dec.feed(&wire[at..end]).unwrap();
        at += used;
        if let Progress::Complete(reply) = progress {
            return (at, reply);
        }
    }
    panic!("reply never completed");
}

#[test]
fn framed_json_completes_at_closing_brace_and_leaves_padding_as_debt() {
    let json = br#"{"result":"succeeded","command":"clear"}"#;
    for step in [1, 2, 7, F] {
        let mut dec = ReplyDecoder::new(Some(F));
        dec.begin();
        let (used, reply) = decode_in_steps(&mut dec, &frame(json), step);
        assert_eq!(reply, RawReply::Json(json.to_vec()));
        assert_eq!(used, json.len());
        assert_eq!(dec.debt(), F - json.len());
    }
}

#[test]
fn padding_debt_is_paid_before_the_next_reply() {
    let first = br#"{"a":1}"#;
    let second = br#"{"b":"x}]"}"#;
    let mut wire = frame(first);
    wire.extend(frame(second));
    let mut dec = ReplyDecoder::new(Some(F));
    dec.begin();
    let (used, reply) = decode_in_steps(&mut dec, &wire, 5);
    assert_eq!(reply, RawReply::Json(first.to_vec()));
    dec.begin();
    let (_, reply) = decode_in_steps(&mut dec, &wire[used..], 3);
    assert_eq!(reply, RawReply::Json(second.to_vec()));
    assert_eq!(dec.take_leftover(), 0);
}

#[test]
fn brackets_inside_strings_and_escaped_quotes_do_not_end_a_value() {
    let json = br#"{ "results": [ { "result": "error", "error_details": { "message": "a \"}] b\\" } } ] }"#;
    let mut dec = ReplyDecoder::new(None);
    dec.begin();
    let (used, reply) = decode_in_steps(&mut dec, json, 1);
    assert_eq!(used, json.len());
    assert_eq!(reply, RawReply::Json(json.to_vec()));
}

#[test]
fn unframed_reply_far_larger_than_4096_bytes_in_odd_pieces() {
    let body: String = (0..3000).map(|i| format!("\"c{i}\"")).collect::<Vec<_>>().join(", ");
    let json = format!("{{ \"info\": [ {body} ] }}");
    assert!(json.len() > 20_000);
    let mut dec = ReplyDecoder::new(None);
    dec.begin();
    let (_, reply) = decode_in_steps(&mut dec, json.as_bytes(), 997);
    assert_eq!(reply, RawReply::Json(json.into_bytes()));
}

#[test]
fn nuls_inside_a_split_json_value_are_removed() {
    let mut dec = ReplyDecoder::new(None);
    dec.begin();
    let (_, reply) = decode_in_steps(&mut dec, b"\0\0{\"a\"\0:1}", 2);
    assert_eq!(reply, RawReply::Json(b"{\"a\":1}".to_vec()));
}

#[test]
fn echo_frame_becomes_spaced_text_when_the_frame_is_full() {
    let mut dec = ReplyDecoder::new(Some(F));
    dec.begin();
    let wire = frame(b"patch\0reset");
    let (used, reply) = decode_in_steps(&mut dec, &wire, 4);
    assert_eq!(used, F);
    assert_eq!(reply, RawReply::Text("patch reset".into()));
    assert_eq!(dec.debt(), 0);
}

#[test]
fn short_echo_frame_is_finished_by_the_grace_period_and_frames_are_forgotten() {
    let mut dec = ReplyDecoder::new(Some(F));
    dec.begin();
    assert_eq!(dec.feed(b"patch").unwrap(), (5, Progress::Incomplete));
    assert_eq!(dec.feed(b"\0reset\0\0").unwrap(), (8, Progress::TextPadding));
    assert_eq!(dec.finish_text(), RawReply::Text("patch reset".into()));
    assert_eq!(dec.frame_size(), None);
}

#[test]
fn a_frame_full_before_the_json_closes_ends_the_reply() {
    // An unescaped quote in a DPDK message must not make us read forever.
    let mut dec = ReplyDecoder::new(Some(F));
    dec.begin();
    let wire = frame(br#"{"message":"bad " quote"}"#);
    let (used, RawReply::Json(body)) = decode_in_steps(&mut dec, &wire, 9) else {
        panic!("expected a JSON reply");
    };
    assert_eq!(used, F);
    assert_eq!(body, br#"{"message":"bad " quote"}"#.to_vec());
}

#[test]
fn bytes_while_idle_must_be_padding() {
    let mut dec = ReplyDecoder::new(None);
    assert_eq!(dec.feed(b"\0\0").unwrap(), (2, Progress::Incomplete));
    assert_eq!(dec.feed(b"x"), Err(FrameError::Unsolicited(b'x')));
}

#[test]
fn leftover_command_text_inside_padding_is_counted() {
    let mut dec = ReplyDecoder::new(Some(F));
    dec.begin();
    let mut wire = frame(br#"{"r":1}"#);
    wire[20] = b'z';
    let (used, _) = decode_in_steps(&mut dec, &wire, F);
    assert_eq!(dec.feed(&wire[used..]).unwrap(), (F - used, Progress::Incomplete));
    assert_eq!(dec.take_leftover(), 1);
}

#[test]
fn handshake_decoder_adopts_the_nfv_frame() {
    let json = br#"{"results":[{"result":"success"}],"client_id":1,"process_type":"nfv"}"#;
    let mut wire = json.to_vec();
    wire.resize(128, 0);
    let mut dec = ReplyDecoder::new(None);
    dec.begin();
    let (used, _) = decode_in_steps(&mut dec, &wire, 50);
    assert_eq!(used, json.len());
    dec.adopt_frames(128, dec.frame_bytes_seen());
    assert_eq!(dec.debt(), 128 - json.len());
}
