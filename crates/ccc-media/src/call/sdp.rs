//! What the session reads from and fixes in SDP text beside webrtc-rs: the offered
//! direction (RFC 3264), the ICE user fragment, and the duplicate formats webrtc-rs
//! 0.21.1 can write into an answer.

use webrtc::rtp_transceiver::RTCRtpTransceiverDirection;

/// The direction an SDP offers for its audio (RFC 3264 section 5.1): the audio
/// section's attribute, else the session's, else sendrecv.
pub(super) fn offered_direction(sdp: &str) -> RTCRtpTransceiverDirection {
    let parse = |line: &str| match line.trim() {
        "a=sendrecv" => Some(RTCRtpTransceiverDirection::Sendrecv),
        "a=sendonly" => Some(RTCRtpTransceiverDirection::Sendonly),
        "a=recvonly" => Some(RTCRtpTransceiverDirection::Recvonly),
        "a=inactive" => Some(RTCRtpTransceiverDirection::Inactive),
        _ => None,
    };
    let mut session = None;
    let mut in_audio = false;
    let mut seen_media = false;
    for line in sdp.lines() {
        let line = line.trim();
        if line.starts_with("m=") {
            if in_audio {
                break;
            }
            seen_media = true;
            in_audio = line.starts_with("m=audio");
            continue;
        }
        match (parse(line), seen_media, in_audio) {
            (Some(d), false, _) => session = Some(d),
            (Some(d), true, true) => return d,
            _ => {}
        }
    }
    session.unwrap_or(RTCRtpTransceiverDirection::Sendrecv)
}

/// Our answer's direction to an offered one, holding ourselves or not (RFC 3264 6.1).
pub(super) fn answer_direction(
    offered: RTCRtpTransceiverDirection,
    local_hold: bool,
) -> RTCRtpTransceiverDirection {
    use RTCRtpTransceiverDirection as D;
    // We may send if they receive, and receive if they send (and we are not holding).
    let send = matches!(offered, D::Sendrecv | D::Recvonly);
    let receive = matches!(offered, D::Sendrecv | D::Sendonly) && !local_hold;
    match (send, receive) {
        (true, true) => D::Sendrecv,
        (true, false) => D::Sendonly,
        (false, true) => D::Recvonly,
        (false, false) => D::Inactive,
    }
}

/// The first `a=ice-ufrag` of an SDP.
pub(super) fn ice_ufrag(sdp: &str) -> Option<String> {
    sdp.lines()
        .find_map(|line| line.trim().strip_prefix("a=ice-ufrag:"))
        .map(str::to_owned)
}

/// The transport address (connection address and port) of each `a=candidate` of `sdp`.
pub(super) fn candidate_addresses(sdp: &str) -> Vec<(String, String)> {
    sdp.lines()
        .filter_map(|line| {
            let fields: Vec<&str> = line
                .trim()
                .strip_prefix("a=candidate:")?
                .split_whitespace()
                .collect();
            Some(((*fields.get(4)?).to_owned(), (*fields.get(5)?).to_owned()))
        })
        .collect()
}

/// `sdp` without its candidates at the addresses of `gone` (after an ICE restart that
/// bound new sockets, webrtc-rs 0.21 still lists the closed ones beside the new ones).
pub(super) fn without_candidates_at(sdp: &str, gone: &[(String, String)]) -> String {
    if gone.is_empty() {
        return sdp.to_owned();
    }
    sdp.split_inclusive('\n')
        .filter(|line| {
            candidate_addresses(line)
                .first()
                .is_none_or(|address| !gone.contains(address))
        })
        .collect()
}

/// The `a=mid` of each media section of `sdp`, in order (`None` where it has none).
pub(super) fn mids(sdp: &str) -> Vec<Option<String>> {
    let mut out: Vec<Option<String>> = Vec::new();
    for line in sdp.lines() {
        let line = line.trim();
        if line.starts_with("m=") {
            out.push(None);
        } else if let (Some(mid), Some(last)) = (line.strip_prefix("a=mid:"), out.last_mut()) {
            *last = Some(mid.trim().to_owned());
        }
    }
    out
}

/// `sdp` with an `a=mid` in every media section. webrtc-rs 0.21.1 refuses an SDP with a
/// section without one ("media section without mid value"), but mid (RFC 5888) is only
/// needed with BUNDLE, and SIP-WebRTC gateways and SIP phones often leave it out.
/// Section `i` without one gets `mid_for(i)`: for an answer, the mid of our offer's
/// section `i`; for an offer, a fresh one.
pub(super) fn with_mids(sdp: &str, mid_for: impl Fn(usize) -> String) -> String {
    let present = mids(sdp);
    if present.iter().all(Option::is_some) {
        return sdp.to_owned();
    }
    let ending = if sdp.contains("\r\n") { "\r\n" } else { "\n" };
    let mut out = String::with_capacity(sdp.len() + 16 * present.len());
    let mut section: Option<usize> = None;
    let close = |out: &mut String, section: Option<usize>| {
        if let Some(i) = section
            && present.get(i).is_some_and(Option::is_none)
        {
            out.push_str("a=mid:");
            out.push_str(&mid_for(i));
            out.push_str(ending);
        }
    };
    for line in sdp.split_inclusive('\n') {
        if line.starts_with("m=") {
            close(&mut out, section);
            section = Some(section.map_or(0, |i| i + 1));
        }
        out.push_str(line);
        if !line.ends_with('\n') {
            out.push_str(ending);
        }
    }
    close(&mut out, section);
    out
}

/// The DTLS role an SDP asks for (RFC 4145 `a=setup`, RFC 5763): the first media
/// section's, else the session's.
pub(super) fn setup(sdp: &str) -> Option<String> {
    let mut session = None;
    let mut in_media = false;
    for line in sdp.lines() {
        let line = line.trim();
        if line.starts_with("m=") {
            in_media = true;
        } else if let Some(value) = line.strip_prefix("a=setup:") {
            if in_media {
                return Some(value.trim().to_owned());
            }
            session.get_or_insert_with(|| value.trim().to_owned());
        }
    }
    session
}

/// `sdp` with a session-level `a=setup` repeated in each media section that has none:
/// webrtc-rs 0.21.1 reads the far end's role from the media sections only, and took a
/// gateway's session-level `a=setup:active` for `actpass`.
pub(super) fn with_media_level_setup(sdp: &str) -> String {
    let mut session = None;
    let mut in_media = false;
    let mut sections_without = 0;
    let mut this_has = true;
    for line in sdp.lines() {
        let line = line.trim();
        if line.starts_with("m=") {
            if in_media && !this_has {
                sections_without += 1;
            }
            in_media = true;
            this_has = false;
        } else if let Some(value) = line.strip_prefix("a=setup:") {
            if in_media {
                this_has = true;
            } else {
                session = Some(value.trim().to_owned());
            }
        }
    }
    if in_media && !this_has {
        sections_without += 1;
    }
    let Some(value) = session.filter(|_| sections_without > 0) else {
        return sdp.to_owned();
    };
    let ending = if sdp.contains("\r\n") { "\r\n" } else { "\n" };
    let mut out = String::with_capacity(sdp.len() + 24 * sections_without);
    let mut in_media = false;
    let mut this_has = true;
    let close = |out: &mut String, in_media: bool, this_has: bool| {
        if in_media && !this_has {
            out.push_str("a=setup:");
            out.push_str(&value);
            out.push_str(ending);
        }
    };
    for line in sdp.split_inclusive('\n') {
        if line.starts_with("m=") {
            close(&mut out, in_media, this_has);
            in_media = true;
            this_has = false;
        } else if in_media && line.starts_with("a=setup:") {
            this_has = true;
        }
        out.push_str(line);
        if !line.ends_with('\n') {
            out.push_str(ending);
        }
    }
    close(&mut out, in_media, this_has);
    out
}

/// Our answer with the DTLS role the offer leaves us (RFC 5763 section 5): passive to
/// `active`, active to `passive`. webrtc-rs 0.21.1 takes that role on the wire but
/// writes its configured answering role into the answer whatever the offer said, so a
/// gateway that offers `active` read `active` back, and both ends waited for the other
/// to be the DTLS server.
pub(super) fn with_answer_setup(answer: &str, offered: Option<&str>) -> String {
    let ours = match offered {
        Some("active") => "passive",
        Some("passive") => "active",
        _ => return answer.to_owned(),
    };
    answer
        .split_inclusive('\n')
        .map(|line| {
            let text = line.trim_end_matches(['\r', '\n']);
            match text.strip_prefix("a=setup:") {
                Some(value) if value != ours => {
                    format!("a=setup:{ours}{}", &line[text.len()..])
                }
                _ => line.to_owned(),
            }
        })
        .collect()
}

/// Whether `sdp` groups its sections with BUNDLE (RFC 8843).
pub(super) fn has_bundle_group(sdp: &str) -> bool {
    sdp.lines()
        .any(|line| line.trim().starts_with("a=group:BUNDLE"))
}

/// `sdp` with its media sections (which all have an `a=mid`, see [`with_mids`]) in one
/// BUNDLE group, added at the session level. webrtc-rs 0.21.1 answers an offer without
/// a BUNDLE group with every section at port 0, which rejects the audio (RFC 3264
/// section 6): it takes "no group" for "a group that has none of them". Its transport
/// is one 5-tuple whatever the SDP says, so for the single audio section of a SIP call
/// the group changes nothing else.
pub(super) fn with_bundle_group(sdp: &str) -> String {
    let group: Vec<String> = mids(sdp).into_iter().flatten().collect();
    let ending = if sdp.contains("\r\n") { "\r\n" } else { "\n" };
    let mut out = String::with_capacity(sdp.len() + 32);
    let mut added = false;
    for line in sdp.split_inclusive('\n') {
        if !added && line.starts_with("m=") {
            out.push_str("a=group:BUNDLE ");
            out.push_str(&group.join(" "));
            out.push_str(ending);
            added = true;
        }
        out.push_str(line);
    }
    out
}

/// `sdp` without its BUNDLE group: our answer to an offer that had none must not add
/// one (RFC 8843 section 7.3).
pub(super) fn without_bundle_group(sdp: &str) -> String {
    sdp.split_inclusive('\n')
        .filter(|line| !line.starts_with("a=group:BUNDLE"))
        .collect()
}

/// `sdp` with each media format listed once. webrtc-rs 0.21.1 matches the far end's
/// codecs against ours without their clock rate, so a browser's offer of
/// `telephone-event/48000` and `/8000` (payload types 110 and 126) beside our one
/// telephone-event comes out as `m=audio ... 110 110` with the `a=rtpmap:110` line twice:
/// an answer that strict parsers refuse. The second mention of a payload type on the
/// `m=` line goes, and so does a repeated attribute line within a media section.
pub(super) fn without_duplicate_formats(sdp: &str) -> String {
    let mut out = String::with_capacity(sdp.len());
    let mut seen_lines: Vec<&str> = Vec::new();
    for line in sdp.split_inclusive('\n') {
        let text = line.trim_end_matches(['\r', '\n']);
        let ending = &line[text.len()..];
        if let Some(media) = text.strip_prefix("m=") {
            seen_lines.clear();
            let mut fields = media.split(' ');
            let head: Vec<&str> = fields.by_ref().take(3).collect();
            let mut formats: Vec<&str> = Vec::new();
            for format in fields {
                if !formats.contains(&format) {
                    formats.push(format);
                }
            }
            out.push_str("m=");
            out.push_str(&head.join(" "));
            for format in formats {
                out.push(' ');
                out.push_str(format);
            }
            out.push_str(ending);
            continue;
        }
        let per_format = ["a=rtpmap:", "a=fmtp:", "a=rtcp-fb:"]
            .iter()
            .any(|p| text.starts_with(p));
        if per_format {
            if seen_lines.contains(&text) {
                continue;
            }
            seen_lines.push(text);
        }
        out.push_str(line);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use RTCRtpTransceiverDirection as D;

    #[test]
    fn directions_follow_rfc_3264() {
        let sdp = |dir: &str| format!("v=0\r\ns=-\r\nm=audio 9 RTP/AVP 0\r\n{dir}\r\n");
        assert_eq!(offered_direction(&sdp("a=sendonly")), D::Sendonly);
        assert_eq!(offered_direction(&sdp("")), D::Sendrecv);
        assert_eq!(
            offered_direction("v=0\r\na=inactive\r\nm=audio 9 RTP/AVP 0\r\n"),
            D::Inactive,
            "the session level applies"
        );
        assert_eq!(
            offered_direction("m=video 9 RTP/AVP 96\r\na=sendonly\r\nm=audio 9 RTP/AVP 0\r\n"),
            D::Sendrecv,
            "another section's attribute does not"
        );
        assert_eq!(answer_direction(D::Sendonly, false), D::Recvonly);
        assert_eq!(answer_direction(D::Sendonly, true), D::Inactive);
        assert_eq!(answer_direction(D::Inactive, false), D::Inactive);
        assert_eq!(answer_direction(D::Recvonly, false), D::Sendonly);
        assert_eq!(answer_direction(D::Sendrecv, true), D::Sendonly);
        assert_eq!(answer_direction(D::Sendrecv, false), D::Sendrecv);
    }

    #[test]
    fn candidates_of_closed_sockets_are_left_out() {
        let sdp = "v=0\r\nm=audio 9 UDP/TLS/RTP/SAVPF 0\r\n\
                   a=candidate:1 1 udp 2130706431 127.0.0.1 5000 typ host\r\n\
                   a=candidate:2 1 udp 16777215 127.0.0.1 6000 typ relay raddr 0.0.0.0 rport 0\r\n\
                   a=end-of-candidates\r\n";
        let all = candidate_addresses(sdp);
        assert_eq!(
            all,
            [
                ("127.0.0.1".to_owned(), "5000".to_owned()),
                ("127.0.0.1".to_owned(), "6000".to_owned())
            ]
        );
        let kept = without_candidates_at(sdp, &all[..1]);
        assert!(!kept.contains(" 5000 "), "{kept}");
        assert!(kept.contains(" 6000 typ relay") && kept.ends_with("a=end-of-candidates\r\n"));
        assert_eq!(without_candidates_at(sdp, &[]), sdp);
    }

    #[test]
    fn ice_ufrag_is_read() {
        assert_eq!(
            ice_ufrag("v=0\r\na=ice-ufrag:abc\r\n").as_deref(),
            Some("abc")
        );
        assert_eq!(ice_ufrag("v=0\r\n"), None);
    }

    #[test]
    fn sections_without_a_mid_get_one() {
        let gateway = "v=0\r\ns=-\r\nm=audio 4000 RTP/SAVPF 0\r\na=rtpmap:0 PCMU/8000\r\n\
                       m=video 0 RTP/SAVPF 96\r\na=mid:v\r\n";
        assert_eq!(mids(gateway), [None, Some("v".to_owned())]);
        let fixed = with_mids(gateway, |i| format!("m{i}"));
        assert_eq!(
            fixed,
            "v=0\r\ns=-\r\nm=audio 4000 RTP/SAVPF 0\r\na=rtpmap:0 PCMU/8000\r\na=mid:m0\r\n\
             m=video 0 RTP/SAVPF 96\r\na=mid:v\r\n"
        );
        // The last line without its line break, and a complete SDP left alone.
        assert_eq!(
            with_mids("m=audio 9 RTP/AVP 0", |_| "0".into()),
            "m=audio 9 RTP/AVP 0\na=mid:0\n"
        );
        assert_eq!(with_mids(&fixed, |_| unreachable!()), fixed);
    }

    #[test]
    fn the_dtls_role_follows_the_offer() {
        let session_level = "v=0\r\na=setup:active\r\nm=audio 9 RTP/SAVPF 0\r\na=mid:0\r\n";
        assert_eq!(setup(session_level).as_deref(), Some("active"));
        assert_eq!(
            with_media_level_setup(session_level),
            "v=0\r\na=setup:active\r\nm=audio 9 RTP/SAVPF 0\r\na=mid:0\r\na=setup:active\r\n"
        );
        let media_level = "v=0\r\nm=audio 9 RTP/SAVPF 0\r\na=setup:passive\r\n";
        assert_eq!(setup(media_level).as_deref(), Some("passive"));
        assert_eq!(with_media_level_setup(media_level), media_level);
        let answer = "v=0\r\nm=audio 9 RTP/SAVPF 0\r\na=setup:active\r\n";
        assert_eq!(
            with_answer_setup(answer, Some("active")),
            "v=0\r\nm=audio 9 RTP/SAVPF 0\r\na=setup:passive\r\n"
        );
        assert_eq!(with_answer_setup(answer, Some("passive")), answer);
        assert_eq!(with_answer_setup(answer, Some("actpass")), answer);
        assert_eq!(with_answer_setup(answer, None), answer);
    }

    #[test]
    fn a_bundle_group_is_added_and_taken_away() {
        let offer = "v=0\r\ns=-\r\nt=0 0\r\nm=audio 4000 RTP/SAVPF 0\r\na=mid:0\r\n";
        assert!(!has_bundle_group(offer));
        let grouped = with_bundle_group(offer);
        assert_eq!(
            grouped,
            "v=0\r\ns=-\r\nt=0 0\r\na=group:BUNDLE 0\r\nm=audio 4000 RTP/SAVPF 0\r\na=mid:0\r\n"
        );
        assert!(has_bundle_group(&grouped));
        assert_eq!(without_bundle_group(&grouped), offer);
    }

    #[test]
    fn duplicate_formats_are_listed_once() {
        let answer = "v=0\r\nm=audio 9 UDP/TLS/RTP/SAVPF 111 0 8 110 110\r\na=mid:0\r\n\
                      a=rtpmap:111 opus/48000/2\r\na=rtpmap:110 telephone-event/48000\r\n\
                      a=rtpmap:110 telephone-event/48000\r\na=sendrecv\r\n";
        assert_eq!(
            without_duplicate_formats(answer),
            "v=0\r\nm=audio 9 UDP/TLS/RTP/SAVPF 111 0 8 110\r\na=mid:0\r\n\
             a=rtpmap:111 opus/48000/2\r\na=rtpmap:110 telephone-event/48000\r\na=sendrecv\r\n"
        );
        // Another section may repeat what the first said; a clean SDP is left alone.
        let two = "m=audio 9 RTP/AVP 0\na=rtpmap:0 PCMU/8000\nm=audio 9 RTP/AVP 0\na=rtpmap:0 PCMU/8000\n";
        assert_eq!(without_duplicate_formats(two), two);
        assert_eq!(without_duplicate_formats(""), "");
    }
}
