//! Tests of the audience expression and of what an evaluation proves (`selection.rs`).

use super::*;

fn criterion(id: &str, effect: Effect, kind: CriterionType) -> Criterion {
    Criterion {
        id: id.into(),
        effect,
        kind,
        description: format!("criterion {id}"),
        special_category: None,
        art9_condition: None,
        minor: false,
        ai_selected: false,
        match_keys: None,
        seed_audience: None,
        lineage: vec!["s".into()],
    }
}

/// c1 or c2 lets people in, c3 is contextual, c4 keeps them out.
fn record() -> (Audience, Vec<Criterion>) {
    let a: Audience = serde_json::from_str(r#"{"all_of":[{"any_of":["c1","c2"]},"c3",{"none_of":["c4"]}]}"#).unwrap();
    let c = vec![
        criterion("c1", Effect::Include, CriterionType::Modelled),
        criterion("c2", Effect::Include, CriterionType::UploadedList),
        criterion("c3", Effect::Include, CriterionType::Contextual),
        criterion("c4", Effect::Exclude, CriterionType::Declared),
    ];
    (a, c)
}

fn eval(pairs: &[(&str, Outcome)]) -> BTreeMap<String, Evaluation> {
    pairs.iter().map(|(id, o)| (id.to_string(), Evaluation { result: *o, value: None })).collect()
}

use Outcome::{Matched as M, NotEvaluated as NE, NotMatched as NM};

#[test]
fn json_round_trips_and_bad_shapes_are_refused_in_words() {
    let (a, _) = record();
    assert_eq!(serde_json::to_string(&a).unwrap(), r#"{"all_of":[{"any_of":["c1","c2"]},"c3",{"none_of":["c4"]}]}"#);
    for (bad, words) in [
        (r#"{"all_of":["c1"],"any_of":["c2"]}"#, "exactly one operator"),
        (r#"{"either":["c1"]}"#, "not a group operator"),
        (r#"["c1"]"#, "is a list"),
        ("{}", "empty object"),
    ] {
        let e = serde_json::from_str::<Audience>(bad).unwrap_err().to_string();
        assert!(e.contains(words), "{bad}: {e}");
    }
}

#[test]
fn the_expression_must_use_every_criterion_with_its_effect_within_the_depth() {
    let (a, c) = record();
    assert_eq!(check(Some(&a), &c), Ok(()));
    assert!(check(None, &[]).is_ok());
    assert_eq!(check(None, &c).unwrap_err().criterion.as_deref(), Some("c1"));
    let missing: Audience = serde_json::from_str(r#"{"all_of":["c1","c3",{"none_of":["c4"]}]}"#).unwrap();
    assert_eq!(check(Some(&missing), &c).unwrap_err().criterion.as_deref(), Some("c2"));
    let inverted: Audience = serde_json::from_str(r#"{"all_of":["c1","c2","c3","c4"]}"#).unwrap();
    assert!(check(Some(&inverted), &c).unwrap_err().why.contains("exclusion stands under none_of"));
    let double: Audience = serde_json::from_str(r#"{"all_of":["c2","c3",{"none_of":["c4",{"none_of":["c1"]}]}]}"#).unwrap();
    assert_eq!(check(Some(&double), &c), Ok(()), "two none_of make an inclusion");
    let unknown: Audience = serde_json::from_str(r#"{"all_of":["c1","c2","c3",{"none_of":["c4","c9"]}]}"#).unwrap();
    assert!(check(Some(&unknown), &c).unwrap_err().why.contains("`c9`"));
    let deep: Audience =
        serde_json::from_str(r#"{"all_of":["c2","c3",{"none_of":["c4"]},{"any_of":[{"all_of":[{"any_of":[{"all_of":["c1"]}]}]}]}]}"#)
            .unwrap();
    assert!(check(Some(&deep), &c).unwrap_err().why.contains("more than 4 deep"));
    let empty: Audience = serde_json::from_str(r#"{"all_of":["c1","c2","c3",{"none_of":["c4"]},{"any_of":[]}]}"#).unwrap();
    assert!(check(Some(&empty), &c).unwrap_err().why.contains("0 members"));
}

#[test]
fn selection_is_proved_only_by_what_the_evaluation_says() {
    let (a, c) = record();
    let ok = |e: &[(&str, Outcome)]| check_selected(Some(&a), &c, &eval(e));
    assert_eq!(ok(&[("c1", M), ("c2", NM), ("c3", NE), ("c4", NM)]), Ok(()));
    assert_eq!(ok(&[("c1", NE), ("c2", M), ("c3", NE), ("c4", NM)]), Ok(()), "another way in held");
    let blamed = |e: &[(&str, Outcome)]| ok(e).unwrap_err().criterion;
    assert_eq!(blamed(&[("c1", M), ("c2", NM), ("c3", NE), ("c4", M)]).as_deref(), Some("c4"), "an exclusion matched");
    assert_eq!(blamed(&[("c1", NM), ("c2", NM), ("c3", NE), ("c4", NM)]).as_deref(), Some("c1"), "no way in held");
    assert_eq!(blamed(&[("c1", M), ("c2", NM), ("c3", NE), ("c4", NE)]).as_deref(), Some("c4"), "an exclusion not checked");
    assert!(ok(&[("c1", M), ("c2", NM), ("c3", NE), ("c4", M)]).unwrap_err().why.contains("exclusion `c4` matched"));
}

#[test]
fn a_page_names_only_the_branch_that_held() {
    let (a, c) = record();
    assert_eq!(selected_by(&a, &c, &eval(&[("c1", M), ("c2", NM), ("c3", NE), ("c4", NM)])), ["c1", "c3"]);
    assert_eq!(selected_by(&a, &c, &eval(&[("c1", NM), ("c2", M), ("c3", NE), ("c4", NM)])), ["c2", "c3"]);
    assert_eq!(selected_by(&a, &c, &eval(&[("c1", M), ("c2", M), ("c3", NE), ("c4", NM)])), ["c1", "c2", "c3"]);
    assert!(selected_by(&a, &c, &eval(&[("c1", NM), ("c2", NM), ("c3", NE), ("c4", NM)])).is_empty());
}
