//! Being transferred, through Kamailio: SIPp, in a call with our agent, REFERs it to a
//! SIPp callee; our agent follows (202, the new call, NOTIFY 100/180/200). And an
//! attended transfer end to end: our agent transfers a SIPp party to our second agent
//! with `Replaces`; SIPp sends the INVITE with `Replaces`, which takes the place of the
//! consultation call at our second agent.

use ccc_sip::client::SipClient;
use ccc_sip::ua::{CallHandle, EndReason, UaEvent};
use ccc_testpeers::{Kamailio, KamailioConfig, Sipp, scenario_path};

mod common;
use common::{assert_succeeded, finished, kamailio_agent, next_ua};

const SDP: &[u8] = b"v=0\r\no=- 2 2 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 40000 RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\n";

/// Waits for the answer to `call`, skipping its progress.
async fn answered(client: &mut SipClient, call: CallHandle, kam: &Kamailio) {
    loop {
        match next_ua(client).await {
            UaEvent::CallProgress { call: c, .. } if c == call => {}
            UaEvent::CallAnswered { call: c, .. } if c == call => return,
            other => panic!("unexpected {other:?}\n{}", kam.log_tail()),
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn our_agent_follows_a_blind_transfer_and_reports_its_progress() {
    let Some(kam) = Kamailio::start(KamailioConfig::default()).expect("Kamailio starts") else {
        return;
    };
    let mut x = kamailio_agent(&kam, "1001", 21).await;
    let Some(callee) = Sipp::start(
        &scenario_path("uas_answer.xml"),
        kam.udp_addr(),
        &["-m", "1"],
    )
    .expect("SIPp starts") else {
        return;
    };
    let target = format!("sip:callee@{}", callee.addr());
    let Some(transferor) = Sipp::start(
        &scenario_path("uac_call_refer.xml"),
        kam.udp_addr(),
        &["-s", "1001", "-m", "1", "-set", "target", &target],
    )
    .expect("SIPp starts") else {
        return;
    };
    let call = match next_ua(&mut x).await {
        UaEvent::IncomingCall { call, .. } => call,
        other => panic!("expected the call, got {other:?}"),
    };
    assert!(x.answer(call, SDP.to_vec()).await);
    assert_eq!(next_ua(&mut x).await, UaEvent::CallEstablished { call });
    assert_eq!(
        next_ua(&mut x).await,
        UaEvent::TransferRequested {
            call,
            target: target.clone(),
            replaces: false
        }
    );
    let new = x
        .accept_transfer(call, SDP.to_vec())
        .await
        .expect("the REFER waits");
    answered(&mut x, new, &kam).await;
    // The transferor, told of the success, hangs up its call.
    assert_eq!(
        next_ua(&mut x).await,
        UaEvent::CallEnded {
            call,
            reason: EndReason::RemoteHangup
        }
    );
    let run = finished(transferor).await;
    assert_succeeded(&run, Some(&kam));
    // Each NOTIFY body is the status line of the new call's progress (the
    // Content-Length is written last, right before the body).
    let notified = |status: &str| {
        run.messages.contains(&format!(
            "Content-Length: {}\r\n\r\n{status}\r\n",
            status.len() + 2
        ))
    };
    for status in [
        "SIP/2.0 100 Trying",
        "SIP/2.0 180 Ringing",
        "SIP/2.0 200 OK",
    ] {
        assert!(notified(status), "NOTIFY {status:?}:\n{}", run.messages);
    }
    assert!(x.hang_up(new).await);
    assert_eq!(
        next_ua(&mut x).await,
        UaEvent::CallEnded {
            call: new,
            reason: EndReason::LocalHangup
        }
    );
    let run = finished(callee).await;
    assert_succeeded(&run, Some(&kam));
    assert!(
        run.messages
            .contains("Referred-By: <sip:13800000000@customers.test>"),
        "the new INVITE names who referred it"
    );
    x.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_attended_transfer_replaces_the_consultation_call() {
    let Some(kam) = Kamailio::start(KamailioConfig::default()).expect("Kamailio starts") else {
        return;
    };
    let mut x = kamailio_agent(&kam, "1001", 31).await;
    let mut y = kamailio_agent(&kam, "1002", 32).await;
    let Some(transferee) = Sipp::start(
        &scenario_path("uas_transferee_replaces.xml"),
        kam.udp_addr(),
        &["-m", "1"],
    )
    .expect("SIPp starts") else {
        return;
    };
    // X is in a call with the SIPp party...
    let party = x
        .invite(format!("sip:party@{}", transferee.addr()), SDP.to_vec())
        .await
        .unwrap();
    answered(&mut x, party, &kam).await;
    // ...and consults Y.
    let consult = x.invite("sip:1002@ccc.test", SDP.to_vec()).await.unwrap();
    let y_consult = match next_ua(&mut y).await {
        UaEvent::IncomingCall { call, replaces, .. } => {
            assert_eq!(replaces, None);
            call
        }
        other => panic!("expected the consultation, got {other:?}"),
    };
    assert!(y.answer(y_consult, SDP.to_vec()).await);
    answered(&mut x, consult, &kam).await;
    assert_eq!(
        next_ua(&mut y).await,
        UaEvent::CallEstablished { call: y_consult }
    );
    // X transfers the party to Y, in place of the consultation.
    assert!(x.refer(party, "sip:1002@ccc.test", Some(consult)).await);
    assert_eq!(
        next_ua(&mut x).await,
        UaEvent::TransferAccepted { call: party }
    );
    assert_eq!(
        next_ua(&mut x).await,
        UaEvent::TransferProgress {
            call: party,
            code: 100
        }
    );
    assert_eq!(
        next_ua(&mut x).await,
        UaEvent::TransferProgress {
            call: party,
            code: 200
        }
    );
    assert!(x.hang_up(party).await);
    assert_eq!(
        next_ua(&mut x).await,
        UaEvent::CallEnded {
            call: party,
            reason: EndReason::LocalHangup
        }
    );
    // The party's INVITE with Replaces reaches Y, and takes the consultation's place.
    let replacing = match next_ua(&mut y).await {
        UaEvent::IncomingCall {
            call,
            replaces,
            from,
            ..
        } => {
            assert_eq!(replaces, Some(y_consult), "{from}");
            call
        }
        other => panic!("expected the INVITE with Replaces, got {other:?}"),
    };
    assert!(y.answer(replacing, SDP.to_vec()).await);
    assert_eq!(
        next_ua(&mut y).await,
        UaEvent::CallEstablished { call: replacing }
    );
    assert_eq!(
        next_ua(&mut y).await,
        UaEvent::CallEnded {
            call: y_consult,
            reason: EndReason::Replaced
        }
    );
    assert_eq!(
        next_ua(&mut x).await,
        UaEvent::CallEnded {
            call: consult,
            reason: EndReason::RemoteHangup
        },
        "Y's BYE ends the consultation at X"
    );
    assert_eq!(
        next_ua(&mut y).await,
        UaEvent::CallEnded {
            call: replacing,
            reason: EndReason::RemoteHangup
        }
    );
    let run = finished(transferee).await;
    assert_succeeded(&run, Some(&kam));
    x.shutdown().await;
    y.shutdown().await;
}
