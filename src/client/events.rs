//! `spp-ctl events`: follows an agent's or the cluster's Server-Sent Events stream,
//! reconnecting with `Last-Event-ID` so no event is missed, and prints one line per
//! event (`TIME  HOST  TYPE  key=value ...`) or, with `-o json`, the data object with
//! `id` and `event` added.

use crate::client::args::{EventsArgs, Output};
use crate::client::config::Target;
use crate::client::exit::{Code, Failure};
use crate::client::http::{Request, Transport};
use crate::sse::{Event, Parser};
use http_body_util::BodyExt;
use serde_json::Value;
use std::io::Write;
use std::time::Duration;

/// The line `-o json` prints: the data object with `id` and `event` added.
pub(crate) fn json_line(event: &Event) -> String {
    let mut data = match serde_json::from_str::<Value>(&event.data) {
        Ok(Value::Object(map)) => map,
        _ => {
            let mut map = serde_json::Map::new();
            map.insert("data".into(), Value::String(event.data.clone()));
            map
        }
    };
    data.insert("id".into(), event.last_id.clone().map_or(Value::Null, Value::String));
    data.insert("event".into(), Value::String(event.kind.clone()));
    Value::Object(data).to_string()
}

/// The human line: time, host (`host` of the data, else `default_host`, else `-`), type,
/// then the other fields as key=value in the server's order.
pub(crate) fn human_line(event: &Event, default_host: Option<&str>) -> String {
    let data = serde_json::from_str::<Value>(&event.data).ok();
    let field = |key: &str| data.as_ref().and_then(|d| d.get(key)).and_then(Value::as_str).map(str::to_owned);
    let time = field("time").unwrap_or_else(|| "-".into());
    let host = field("host").or_else(|| default_host.map(str::to_owned)).unwrap_or_else(|| "-".into());
    let mut line = format!("{time}  {host}  {}", event.kind);
    match data {
        Some(Value::Object(map)) => {
            for (key, value) in map.iter().filter(|(k, _)| *k != "time" && *k != "host") {
                match value {
                    Value::String(text) => line.push_str(&format!("  {key}={text}")),
                    other => line.push_str(&format!("  {key}={other}")),
                }
            }
        }
        _ => line.push_str(&format!("  {}", event.data)),
    }
    line
}

/// Follows the stream until interrupted; reconnects after the server's `retry` delay.
pub(crate) async fn follow(target: &Target, transport: &Transport, args: &EventsArgs) -> Result<(), Failure> {
    let path = if args.all {
        "/v1/cluster/events".to_owned()
    } else {
        format!("{}/events", crate::client::routes::base(target.host.as_deref()))
    };
    let mut last_id = args.since.clone();
    let mut parser = Parser::default();
    let mut connected_once = false;
    loop {
        let mut request = Request::get(path.clone());
        request.headers.push(("accept", "text/event-stream".into()));
        if let Some(id) = &last_id {
            request.headers.push(("last-event-id", id.clone()));
        }
        let response = match transport.open(&request, transport.timeout).await {
            Ok(response) => response,
            Err(failure) if !connected_once => return Err(failure),
            Err(failure) => {
                eprintln!("spp-ctl: {} (reconnecting)", failure.message);
                tokio::time::sleep(parser.retry.unwrap_or(Duration::from_secs(1))).await;
                continue;
            }
        };
        let status = response.status().as_u16();
        if status != 200 {
            let body = response.into_body().collect().await.map(|b| b.to_bytes()).unwrap_or_default();
            let text = String::from_utf8_lossy(&body);
            let label = target.host.as_deref().unwrap_or(&target.server);
            return Err(Failure::for_status(
                status,
                format!("{label}: {} ({status})", text.lines().next().unwrap_or_default()),
            ));
        }
        connected_once = true;
        parser.restart(last_id.clone());
        let mut body = response.into_body();
        while let Some(Ok(frame)) = body.frame().await {
            let Ok(chunk) = frame.into_data() else { continue };
            // The same event would come again on every reconnect.
            let events = parser.push(&chunk).map_err(|e| Failure::new(Code::Server, e.to_string()))?;
            for event in events {
                if event.last_id.is_some() {
                    last_id = event.last_id.clone();
                }
                let line = match target.output {
                    Output::Json => json_line(&event),
                    _ => human_line(&event, target.host.as_deref()),
                };
                // A reader that went away (`| head -3`) ends the command quietly.
                let mut out = std::io::stdout().lock();
                if writeln!(out, "{line}").and_then(|()| out.flush()).is_err() {
                    return Ok(());
                }
            }
        }
        tokio::time::sleep(parser.retry.unwrap_or(Duration::from_secs(1))).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_for_people_and_for_scripts() {
        let event = Event {
            id: None,
            last_id: Some("host1=17,host2=9".into()),
            kind: "command".into(),
            data: r#"{"time":"2026-12-03T19:00:00.123Z","host":"h1","method":"PUT","status":204,"process":"nfv:1"}"#.into(),
        };
        assert_eq!(
            human_line(&event, None),
            "2026-12-03T19:00:00.123Z  h1  command  method=PUT  status=204  process=nfv:1"
        );
        assert_eq!(
            json_line(&event),
            r#"{"time":"2026-12-03T19:00:00.123Z","host":"h1","method":"PUT","status":204,"process":"nfv:1","id":"host1=17,host2=9","event":"command"}"#
        );
        let agent = Event {
            id: Some("3".into()),
            last_id: Some("3".into()),
            kind: "forwarding".into(),
            data: r#"{"time":"T","process":"nfv:1","state":"running"}"#.into(),
        };
        assert_eq!(
            human_line(&agent, Some("compute-1")),
            "T  compute-1  forwarding  process=nfv:1  state=running"
        );
        assert_eq!(human_line(&agent, None), "T  -  forwarding  process=nfv:1  state=running");
    }
}
