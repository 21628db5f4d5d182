//! The canonical-form detector agrees with serde_jcs (RFC 8785) on random JSON values.

use proptest::prelude::*;
use serde_json::Value;
use sightline_verifier::json;

fn value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        (0u64..(1 << 53)).prop_map(Value::from),
        any::<i32>().prop_map(Value::from),
        "\\PC{0,8}|[\\x00-\\x1f\"\\\\\u{7f}\u{e000}\u{10000}]{0,4}".prop_map(Value::String),
    ];
    leaf.prop_recursive(4, 48, 6, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            proptest::collection::btree_map("[a-zA-Z\u{e9}\u{e000}\u{10000}]{0,4}", inner, 0..6)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2000, failure_persistence: None, ..ProptestConfig::default() })]
    #[test]
    fn agrees_with_serde_jcs(v in value()) {
        let jcs = serde_jcs::to_vec(&v).unwrap();
        let (c, same) = json::canonicalize(&jcs).unwrap();
        prop_assert!(same);
        prop_assert_eq!(&*c, jcs.as_slice());
        let pretty = serde_json::to_vec_pretty(&v).unwrap();
        let (c, same) = json::canonicalize(&pretty).unwrap();
        prop_assert_eq!(&*c, jcs.as_slice());
        prop_assert_eq!(same, pretty == jcs);
        let plain = serde_json::to_vec(&v).unwrap();
        let (c, same) = json::canonicalize(&plain).unwrap();
        prop_assert_eq!(&*c, jcs.as_slice());
        prop_assert_eq!(same, plain == jcs);
    }
}
