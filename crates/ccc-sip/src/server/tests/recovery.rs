//! The server's half of flow recovery: a call waits for its agent when the agent's flow
//! closes, and moves to the agent's new flow with the agent's re-INVITE.

use super::*;
use crate::ua::TIMER_F;

/// A registered agent in a call the server placed and the agent answered.
fn in_a_call(w: &mut World) -> (usize, Leg, CallHandle) {
    let agent = w.registered("1001", "secret1001");
    let now = w.now;
    let leg = w
        .server
        .invite(
            now,
            "sip:1001@ccc.test",
            "<sip:13800000000@ccc.test>",
            OFFER,
        )
        .unwrap();
    w.pump();
    let call = match &w.agent_saw(agent)[..] {
        [UaEvent::IncomingCall { call, .. }] => *call,
        other => panic!("{other:?}"),
    };
    assert!(w.ua(agent).answer(now, call, ANSWER));
    w.pump();
    w.agent_saw(agent);
    assert!(matches!(
        w.server_calls()[..],
        [UaEvent::CallAnswered { .. }]
    ));
    (agent, leg, call)
}

/// The agent's flow is gone (`server_closes`: the server closed it; else the agent gave
/// it up and the server's end stays open, black-holed) and the agent comes back on a
/// new one, from `port`.
fn reconnect(w: &mut World, agent: usize, server_closes: bool, port: u16) -> FlowId {
    let now = w.now;
    let old = w.agents[agent].1;
    if server_closes {
        w.server.close_flow(now, old);
    }
    w.ua(agent).handle_flow(now, false);
    w.pump();
    let new = w.server.open_flow(Transport::Ws, addr(5066), addr(port));
    w.agents[agent].1 = new;
    w.ua(agent).handle_flow(now, true);
    w.pump();
    new
}

#[test]
fn a_dropped_flow_s_call_moves_to_the_agent_s_new_flow() {
    let mut w = World::new(ServerConfig::new("ccc.test"));
    let (agent, leg, call) = in_a_call(&mut w);
    let now = w.now;
    w.server.close_flow(now, leg.flow);
    w.pump();
    let events = w.server_saw();
    assert!(
        events.contains(&ServerEvent::Ua {
            flow: leg.flow,
            event: UaEvent::CallRecovering { call: leg.call }
        }),
        "{events:?}"
    );
    assert!(
        !events.iter().any(|e| matches!(
            e,
            ServerEvent::Ua {
                event: UaEvent::CallEnded { .. },
                ..
            }
        )),
        "{events:?}"
    );
    w.advance(Duration::from_secs(5));
    let new = reconnect(&mut w, agent, false, 41000);
    assert_ne!(new, leg.flow);
    let saw = w.agent_saw(agent);
    assert!(saw.contains(&UaEvent::CallRecovering { call }), "{saw:?}");
    assert!(saw.contains(&UaEvent::CallRecovered { call }), "{saw:?}");
    assert!(
        !saw.iter()
            .any(|e| matches!(e, UaEvent::CallEnded { .. } | UaEvent::CallUpdate { .. })),
        "the unchanged offer was answered as before: {saw:?}"
    );
    assert!(
        !w.server_calls()
            .iter()
            .any(|e| matches!(e, UaEvent::CallEnded { .. } | UaEvent::CallUpdate { .. })),
        "the leg goes on"
    );
    // The leg keeps its name; what it sends goes over the new flow.
    let now = w.now;
    assert!(w.server.send_info(leg, "application/dtmf", b"5"));
    w.pump();
    assert!(matches!(w.agent_saw(agent)[..], [UaEvent::Info { .. }]));
    assert!(w.server.update(now, leg, HOLD));
    w.pump();
    let saw = w.agent_saw(agent);
    assert!(matches!(saw[..], [UaEvent::CallUpdate { .. }]), "{saw:?}");
    assert!(w.ua(agent).answer(now, call, ANSWER));
    w.pump();
    assert!(matches!(
        w.server_calls()[..],
        [UaEvent::CallUpdated { .. }]
    ));
    // And the agent's BYE, over the new flow, ends it.
    assert!(w.ua(agent).hang_up(now, call));
    w.pump();
    assert_eq!(
        w.server_calls(),
        [UaEvent::CallEnded {
            call: leg.call,
            reason: EndReason::RemoteHangup
        }]
    );
    assert!(!w.server.hang_up(now, leg), "the old flow is forgotten");
}

#[test]
fn a_black_holed_flow_s_call_moves_while_the_old_connection_is_open() {
    let mut w = World::new(ServerConfig::new("ccc.test"));
    let (agent, leg, call) = in_a_call(&mut w);
    w.server_saw();
    let new = reconnect(&mut w, agent, false, 41001);
    assert!(
        w.agent_saw(agent)
            .contains(&UaEvent::CallRecovered { call })
    );
    assert!(w.server_calls().is_empty(), "the server saw no break");
    // The old connection closes at last: the call, carried by the new one, goes on.
    let now = w.now;
    w.server.close_flow(now, leg.flow);
    w.pump();
    assert!(
        !w.server_calls()
            .iter()
            .any(|e| matches!(e, UaEvent::CallEnded { .. }))
    );
    assert!(w.server.hang_up(now, leg));
    w.pump();
    assert_eq!(
        w.agent_saw(agent),
        [UaEvent::CallEnded {
            call,
            reason: EndReason::RemoteHangup
        }]
    );
    assert_ne!(new, leg.flow);
}

#[test]
fn no_agent_within_the_grace_period_ends_the_leg_as_lost() {
    let mut config = ServerConfig::new("ccc.test");
    config.flow_grace = Duration::from_secs(3);
    let mut w = World::new(config);
    let (_, leg, _) = in_a_call(&mut w);
    let now = w.now;
    w.server.close_flow(now, leg.flow);
    w.pump();
    w.server_saw();
    w.advance(Duration::from_millis(2999));
    assert!(w.server_calls().is_empty());
    w.advance(Duration::from_millis(1));
    assert_eq!(
        w.server_calls(),
        [UaEvent::CallEnded {
            call: leg.call,
            reason: EndReason::FlowLost
        }]
    );
    assert!(!w.server.hang_up(w.now, leg), "forgotten");
    assert_eq!(w.server.poll_timeout(), w.server.registrar.next_expiry());
}

#[test]
fn another_instance_cannot_take_the_call() {
    let mut w = World::new(ServerConfig::new("ccc.test"));
    let (agent, leg, call) = in_a_call(&mut w);
    let now = w.now;
    w.server.close_flow(now, leg.flow);
    w.pump();
    // The same user from another device (another instance) sends the re-INVITE.
    w.ua(agent).config_mut().instance = "urn:uuid:00000000-0000-4000-8000-0000000000ff".into();
    reconnect(&mut w, agent, false, 41002);
    let saw = w.agent_saw(agent);
    assert!(
        saw.contains(&UaEvent::CallEnded {
            call,
            reason: EndReason::FlowLost
        }),
        "refused with 481: {saw:?}"
    );
    assert!(
        !w.server_calls()
            .iter()
            .any(|e| matches!(e, UaEvent::CallEnded { .. })),
        "the leg still waits for its own device"
    );
}

#[test]
fn hung_up_while_the_agent_is_away_says_bye_when_it_is_back() {
    let mut w = World::new(ServerConfig::new("ccc.test"));
    let (agent, leg, call) = in_a_call(&mut w);
    let now = w.now;
    w.server.close_flow(now, leg.flow);
    w.pump();
    assert!(w.server.hang_up(now, leg));
    w.pump();
    assert_eq!(
        w.server_calls(),
        [
            UaEvent::CallRecovering { call: leg.call },
            UaEvent::CallEnded {
                call: leg.call,
                reason: EndReason::LocalHangup
            }
        ]
    );
    reconnect(&mut w, agent, false, 41003);
    let saw = w.agent_saw(agent);
    assert!(
        saw.contains(&UaEvent::CallEnded {
            call,
            reason: EndReason::RemoteHangup
        }),
        "{saw:?}"
    );
    assert!(w.server_calls().is_empty(), "reported once");
    w.advance(TIMER_F);
    assert!(!w.server.hang_up(w.now, leg), "forgotten");
}

#[test]
fn a_flow_that_unregistered_first_takes_its_calls_with_it() {
    let mut w = World::new(ServerConfig::new("ccc.test"));
    let (agent, leg, _) = in_a_call(&mut w);
    let now = w.now;
    w.ua(agent).unregister(now);
    w.pump();
    w.server_saw();
    w.server.close_flow(now, leg.flow);
    w.pump();
    assert_eq!(
        w.server_calls(),
        [UaEvent::CallEnded {
            call: leg.call,
            reason: EndReason::FlowLost
        }],
        "no instance left to come back for it"
    );
}
