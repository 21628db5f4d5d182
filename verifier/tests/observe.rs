//! SPEC §3.9's e-mail content hash held to real DKIM signatures, and `observe`'s e-mail reader on
//! damaged and hostile messages: each gives a clear "unusable input" (exit 2), never a panic.

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine as _;
use sightline_verifier::observe::email::{parse_email, relaxed_body_sha256, MAX_MESSAGE};

fn mail(name: &str) -> Vec<u8> {
    std::fs::read(std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/mail").join(name)).unwrap()
}

/// Every `bh=` of the DKIM-Signature fields, read from the message text by hand (not by the
/// DKIM library under test): the body hash its signer computed.
fn signed_body_hashes(raw: &[u8]) -> Vec<[u8; 32]> {
    let text = String::from_utf8_lossy(raw);
    let headers = text.split("\n\n").next().unwrap().replace("\r\n", "\n");
    let mut out = Vec::new();
    for field in headers.split("\nDKIM-Signature:").skip(usize::from(!headers.starts_with("DKIM-Signature:"))) {
        // Unfold the field (continuation lines start with white space) and take its bh= tag.
        let field: String = field
            .split('\n')
            .take_while(|l| !l.is_empty())
            .enumerate()
            .filter(|(i, l)| *i == 0 || l.starts_with([' ', '\t']))
            .map(|(_, l)| l)
            .collect();
        if let Some(bh) = field.split(';').map(str::trim).find_map(|t| t.strip_prefix("bh=")) {
            let bh: String = bh.chars().filter(|c| !c.is_whitespace()).collect();
            out.push(B64.decode(bh).unwrap().try_into().unwrap());
        }
    }
    out
}

#[test]
fn the_email_content_hash_is_the_dkim_relaxed_body_hash_of_real_signed_messages() {
    for name in ["rfc8463-relaxed.eml", "newsletter-relaxed.eml"] {
        let raw = mail(name);
        let signed = signed_body_hashes(&raw);
        assert!(!signed.is_empty(), "{name} has a DKIM-Signature");
        let m = parse_email(&raw, name).unwrap();
        for bh in &signed {
            assert_eq!(&m.body_sha256, bh, "{name}: the content hash is what the signer put in bh=");
        }
        assert_eq!(m.dkim_body_hashes.len(), signed.len(), "{name}");
        assert!(m.dkim_body_hashes.iter().all(|(_, same)| *same), "{name}");
        assert!(m.reference.is_none(), "{name} names no Sightline entry");
    }
    let m = parse_email(&mail("rfc8463-relaxed.eml"), "x").unwrap();
    assert_eq!(m.from.as_deref(), Some("Joe SixPack"));
    assert_eq!(m.subject.as_deref(), Some("Is dinner ready?"));
    assert!(m.date.is_some());
}

#[test]
fn relaxed_canonicalisation_ignores_trailing_space_and_line_endings_but_not_words() {
    let a = relaxed_body_sha256(b"Hi.\r\n\r\nWe lost   the game.\r\n\r\n\r\n");
    assert_eq!(a, relaxed_body_sha256(b"Hi.\n\nWe lost the game.  \n"));
    assert_ne!(a, relaxed_body_sha256(b"Hi.\n\nWe won the game.\n"));
}

#[test]
fn a_body_changed_after_signing_no_longer_matches_its_dkim_body_hash() {
    let raw = String::from_utf8(mail("rfc8463-relaxed.eml")).unwrap().replace("We lost the game.", "We won the game. ");
    let m = parse_email(raw.as_bytes(), "altered").unwrap();
    assert!(!m.dkim_body_hashes.is_empty());
    assert!(m.dkim_body_hashes.iter().all(|(_, same)| !*same));
}

#[test]
fn a_sightline_entry_header_is_read_and_a_broken_one_is_unusable_input() {
    let leaf = "ab".repeat(32);
    let with = |header: &str| {
        format!("{header}From: Shop <news@shop.example>\r\nDate: Fri, 20 Nov 2026 18:04:05 +0000\r\nSubject: Sale\r\n\r\nHi.\r\n")
    };
    let m = parse_email(with(&format!("Sightline-Entry: sightline.example/log\r\n 41 {leaf}\r\n")).as_bytes(), "m").unwrap();
    let r = m.reference.unwrap();
    assert_eq!((r.origin.as_deref(), r.index, r.leaf), (Some("sightline.example/log"), 41, [0xab; 32]));
    assert_eq!(m.date.map(|d| d.0), Some(1_795_716_245 - 6 * 86_400));
    for (header, says) in [
        (format!("Sightline-Entry: sightline.example/log 41 {}\r\n", &leaf[..40]), "40 characters"),
        ("Sightline-Entry: sightline.example/log\r\n".to_string(), "1 parts"),
        (format!("Sightline-Entry: a 1 {leaf}\r\nSightline-Entry: b 2 {leaf}\r\n"), "2 different"),
    ] {
        let e = parse_email(with(&header).as_bytes(), "m").unwrap_err();
        assert_eq!(e.exit_code(), 2, "{header}");
        assert!(e.to_string().contains(says), "{header}: {e}");
    }
}

#[test]
fn malformed_truncated_and_gigantic_messages_are_unusable_input() {
    let cases: Vec<(Vec<u8>, &str)> = vec![
        (b"\x00\x01\x02 not a message".to_vec(), ""),
        (Vec::new(), ""),
        (b"Subject: only a subject, no end of headers".to_vec(), ""),
        (b"From: a@b.example\r\nDate: Fri, 20 Nov 2026 18:04:05 +0000\r\nSightline-Entry: sightline.example/log 41 abab".to_vec(), ""),
        (b"X-Nothing: here\r\n\r\nbody\r\n".to_vec(), "neither a From"),
    ];
    for (raw, says) in cases {
        let e = parse_email(&raw, "bad").unwrap_err();
        assert_eq!(e.exit_code(), 2, "{:?}: {e}", String::from_utf8_lossy(&raw));
        assert!(e.to_string().contains(says), "{e}");
    }
    let mut huge = b"From: a@b.example\r\nDate: Fri, 20 Nov 2026 18:04:05 +0000\r\n\r\n".to_vec();
    huge.resize(MAX_MESSAGE as usize + 1, b'A');
    let e = parse_email(&huge, "huge").unwrap_err();
    assert_eq!(e.exit_code(), 2);
    assert!(e.to_string().contains("MiB"), "{e}");
}
