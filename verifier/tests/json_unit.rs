//! Unit checks of the JSON reader.

use sightline_verifier::json::*;

#[test]
fn canonical_verdicts() {
    for ok in [r#"{"a":1,"b":[true,false,null],"c":"x\n\u001f\"\\"}"#, "0", r#"{"":{}}"#, "[]", r#""é""#] {
        assert!(parse(ok.as_bytes()).unwrap().nodes[0].canonical, "{ok}");
        assert!(canonicalize(ok.as_bytes()).unwrap().1);
    }
    for not in [r#"{"b":1,"a":2}"#, "{ }", "1.0", "-0", r#""\/""#, r#""\u0041""#, r#""\u001F""#, "1e2", "9007199254740993"] {
        assert!(!parse(not.as_bytes()).unwrap().nodes[0].canonical, "{not}");
    }
    for bad in [r#"{"a":1,"a":2}"#, r#"{"b":1,"a":2,"b":3}"#, "[1,]", "01", r#""\ud800""#, "\"\x01\"", "{", "1 2"] {
        assert!(parse(bad.as_bytes()).is_err(), "{bad}");
    }
    let (c, same) = canonicalize(br#"{ "b" : 1 , "a" : [ 1 ] }"#).unwrap();
    assert_eq!(&*c, br#"{"a":[1],"b":1}"#);
    assert!(!same);
}

#[test]
fn navigation() {
    let d = parse(br#"{"a":{"x":"y\"z"},"b":[1,2,{"c":3}],"d":7}"#).unwrap();
    let a = d.get(0, "a").unwrap();
    assert_eq!(d.str(d.get(a, "x").unwrap()).unwrap(), "y\"z");
    let b = d.items(d.get(0, "b").unwrap());
    assert_eq!(b.len(), 3);
    assert_eq!(d.u64(d.get(b[2], "c").unwrap()), Some(3));
    assert_eq!(d.u64(d.get(0, "d").unwrap()), Some(7));
    assert_eq!(d.members(0).len(), 3);
}

#[test]
fn fields_in_order_finds_every_member_in_one_pass() {
    let doc = parse(br#"{"a":1,"b":{"x":[1,2]},"c":"s"}"#).unwrap();
    let [a, b, c] = doc.fields(0, &["a", "b", "c"]).expect("exactly these keys, in order");
    assert_eq!((doc.raw(a), doc.raw(b), doc.raw(c)), ("1", r#"{"x":[1,2]}"#, r#""s""#));
    assert!(doc.keys_in_order(0, &["a", "b", "c"]));
    // Another order, a missing or an extra key, or another value: no match (callers fall back).
    assert!(doc.fields(0, &["b", "a", "c"]).is_none());
    assert!(doc.fields(0, &["a", "b"]).is_none());
    assert!(doc.fields(0, &["a", "b", "c", "d"]).is_none());
    assert!(doc.fields(b, &["x"]).is_some() && doc.fields(a, &[]).is_none());
    // An escaped key is left to the slow path, which decodes it.
    let esc = parse(br#"{"\u0061":1}"#).unwrap();
    assert!(esc.fields(0, &["a"]).is_none() && esc.keys_are(0, &["a"]));
    let empty = parse(b"{}").unwrap();
    assert_eq!(empty.fields(0, &[]), Some([]));
}

/// Strings longer than the scanner's 16-byte blocks, with a quote, backslash escape, raw
/// control character or non-ASCII character at every offset: the reader agrees with serde_json
/// on validity, on the decoded text and (through serde_jcs) on canonical form.
#[test]
fn long_strings_with_a_special_byte_at_every_offset() {
    for len in 0..50 {
        for p in 0..=len {
            for special in ["\\\"", "\\\\", "\\n", "\\u0001", "\\/", "\u{1}", "\u{1f}", "é", "\u{10000}", "\\ud83d\\ude00"] {
                let inner = format!("{}{special}{}", "a".repeat(p), "b".repeat(len - p));
                let text = format!("{{\"k\":\"{inner}\",\"z\":\"{inner}\"}}");
                let ours = parse(text.as_bytes());
                let theirs = serde_json::from_str::<serde_json::Value>(&text);
                assert_eq!(ours.is_ok(), theirs.is_ok(), "{text:?}: validity");
                let (Ok(doc), Ok(v)) = (ours, theirs) else { continue };
                let k = doc.get(0, "k").expect("member k");
                assert_eq!(doc.str(k).as_deref(), v["k"].as_str(), "{text:?}: decoded text");
                let jcs = serde_jcs::to_vec(&v).expect("serialise");
                assert_eq!(doc.nodes[0].canonical, jcs == text.as_bytes(), "{text:?}: canonical verdict");
            }
        }
    }
}
