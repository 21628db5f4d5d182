//! What a JSON decoding error says, in words a submitter reads: the field it is about and what
//! is wrong, without the decoder's vocabulary (`u32`, `struct Delivery`, `a sequence`, `at line
//! 1 column 80`). The ledger names record fields with it, and the server its request
//! envelopes, admin bodies and query strings.

/// The field and the reason for a decoding error `message` at `path` (`.` or empty for the
/// value itself). A missing, unknown or repeated field is named by its own path, not by the
/// object that holds it.
pub fn field_and_reason(path: &str, message: &str) -> (String, String) {
    let path = if path == "." { "" } else { path };
    let message = strip_position(message);
    // A decoder may name an unknown or repeated field by its own path already, or by its parent's.
    let join = |name: &str| match path {
        "" => name.to_string(),
        p if p == name || p.ends_with(&format!(".{name}")) => p.to_string(),
        p => format!("{p}.{name}"),
    };
    if let Some(name) = quoted_after(message, "missing field ") {
        return (
            join(name),
            "is missing: every field must be present, with null or \"not_disclosed\" where the schema allows it (SPEC.md §1, §3)".into(),
        );
    }
    if let Some(name) = quoted_after(message, "duplicate field ") {
        return (join(name), "is repeated: a JSON object must not repeat a key (SPEC.md §1)".into());
    }
    if let Some(name) = quoted_after(message, "unknown field ") {
        let allowed = message.split_once(", expected ").map(|(_, e)| format!("; expected {}", unquote_list(e))).unwrap_or_default();
        return (join(name), format!("is not a field of this object (SPEC.md §3 allows no others){allowed}"));
    }
    if let Some(value) = quoted_after(message, "unknown variant ") {
        let allowed = message.split_once(", expected ").map(|(_, e)| unquote_list(e)).unwrap_or_default();
        return (path.to_string(), format!("`{value}` is not allowed here; expected {allowed}"));
    }
    for prefix in ["invalid type: ", "invalid value: "] {
        if let Some((got, expected)) = message.strip_prefix(prefix).and_then(|m| m.split_once(", expected ")) {
            return (path.to_string(), format!("is {}; expected {}", got_words(got), expected_words(got, expected)));
        }
    }
    if let Some((got, expected)) = message.strip_prefix("invalid length ").and_then(|m| m.split_once(", expected ")) {
        return (path.to_string(), format!("has {got} elements; expected {}", expected_words("", expected)));
    }
    (path.to_string(), message.to_string())
}

/// The text without the ` at line L column C` the decoder adds.
fn strip_position(message: &str) -> &str {
    match message.rfind(" at line ") {
        Some(i) if message[i..].contains(" column ") => &message[..i],
        _ => message,
    }
}

/// The name in backquotes right after `prefix`: "missing field `x`" → "x".
fn quoted_after<'m>(message: &'m str, prefix: &str) -> Option<&'m str> {
    let rest = message.strip_prefix(prefix)?.strip_prefix('`')?;
    rest.split_once('`').map(|(name, _)| name)
}

/// "one of `a`, `b`" → "one of a, b"; "there are no fields" → "no field at all".
fn unquote_list(list: &str) -> String {
    if list.trim() == "there are no fields" {
        return "no field at all".into();
    }
    list.replace('`', "")
}

/// What the value was, in words: "floating point `90.0`" → "90.0", "string \"x\"" → "the text \"x\"".
fn got_words(got: &str) -> String {
    let inner = || got.split_once('`').and_then(|(_, r)| r.rsplit_once('`')).map(|(v, _)| v.to_string());
    match got {
        "null" | "unit value" => "null".into(),
        "map" => "an object".into(),
        "sequence" => "a list".into(),
        g if g.starts_with("string ") => format!("the text {}", &g["string ".len()..]),
        g if g.starts_with("integer ") || g.starts_with("floating point ") || g.starts_with("boolean ") => {
            inner().unwrap_or_else(|| g.into())
        }
        g => g.into(),
    }
}

/// What the field takes, in words instead of the decoder's type names.
fn expected_words(got: &str, expected: &str) -> String {
    let whole = |max: &str| format!("a whole number from 0 to {max}");
    let words = match expected.trim() {
        "u8" => whole("255"),
        "u16" => whole("65535"),
        "u32" => whole("4294967295"),
        "u64" | "usize" => whole("9007199254740991"),
        "i64" | "i32" => "a whole number".into(),
        "a sequence" | "sequence" => "a list".into(),
        "a map" | "map" => "an object".into(),
        "a borrowed string" | "a string" => "a string".into(),
        "unit" | "a unit" => "null".into(),
        "any valid JSON value" => "a JSON value".into(),
        "variant identifier" | "field identifier" => "one of the words the schema allows".into(),
        e if e.starts_with("struct ") || e.starts_with("a struct") => "an object".into(),
        e if e.starts_with("enum ") => "one of the words the schema allows".into(),
        e if e.starts_with("one of ") => unquote_list(e),
        e => e.into(),
    };
    if got.starts_with("floating point ") && words.starts_with("a whole number") {
        format!("{words}, written as an integer (digits only, no fraction or exponent, SPEC.md §1)")
    } else {
        words
    }
}

#[cfg(test)]
mod tests {
    use super::field_and_reason;

    /// The words for a real decoding error of `json` into `T`.
    fn words<T: serde::de::DeserializeOwned + std::fmt::Debug>(json: &str) -> (String, String) {
        let e = serde_path_to_error::deserialize::<_, T>(&mut serde_json::Deserializer::from_str(json)).expect_err("fails");
        field_and_reason(&e.path().to_string(), &e.into_inner().to_string())
    }

    #[derive(Debug, serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Inner {
        days: u32,
        on: bool,
        list: Vec<String>,
    }

    #[derive(Debug, serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Outer {
        inner: Inner,
    }

    #[test]
    fn each_error_names_its_own_field_in_plain_words() {
        let (field, why) = words::<Outer>(r#"{"inner":{"on":true,"list":[]}}"#);
        assert_eq!(field, "inner.days");
        assert!(why.starts_with("is missing"), "{why}");
        let (field, why) = words::<Outer>(r#"{"inner":{"days":1,"on":true,"list":[],"extra":1}}"#);
        assert_eq!(field, "inner.extra");
        assert!(why.contains("expected one of days, on, list"), "{why}");
        let (field, why) = words::<Outer>(r#"{"inner":{"days":1,"days":2,"on":true,"list":[]}}"#);
        assert_eq!(field, "inner.days");
        assert!(why.contains("repeat"), "{why}");
        let (field, why) = words::<Outer>(r#"{"inner":{"days":4294967296,"on":true,"list":[]}}"#);
        assert_eq!((field.as_str(), why.as_str()), ("inner.days", "is 4294967296; expected a whole number from 0 to 4294967295"));
        let (_, why) = words::<Outer>(r#"{"inner":{"days":90.0,"on":true,"list":[]}}"#);
        assert!(why.starts_with("is 90; expected a whole number") || why.starts_with("is 90.0; expected a whole number"), "{why}");
        assert!(why.contains("written as an integer"), "{why}");
        let (field, why) = words::<Outer>(r#"{"inner":{"days":1,"on":"yes","list":[]}}"#);
        assert_eq!((field.as_str(), why.as_str()), ("inner.on", "is the text \"yes\"; expected a boolean"));
        let (_, why) = words::<Outer>(r#"{"inner":{"days":1,"on":true,"list":{}}}"#);
        assert_eq!(why, "is an object; expected a list");
        let (field, why) = words::<Outer>(r#"{"inner":7}"#);
        assert_eq!((field.as_str(), why.as_str()), ("inner", "is 7; expected an object"));
        for (_, why) in [words::<Outer>(r#"{"inner":{"days":-1,"on":true,"list":[]}}"#), words::<Outer>(r#"{"inner":null}"#)] {
            for jargon in ["u32", "struct", "sequence", " at line ", "Inner"] {
                assert!(!why.contains(jargon), "{why}");
            }
        }
    }
}
