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
