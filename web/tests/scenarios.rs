//! The ten seed scenarios of issue 23, as the demo loads them (`web/demo/*.json`), each through
//! the why page of a recipient it shows: which criteria selected that person, which did not
//! apply, which exclusions were checked, the lineage, the flags. Where a campaign reached two
//! recipients through different branches of its audience, each page names only its own.

mod common;

use std::collections::HashMap;

use axum::http::StatusCode;
use common::{Fixture, PUBLIC_URL};
use sightline_ledger::entry::Entry;

/// The demo, loaded into a fresh ledger behind the router, and its message ids → entries.
struct Demo {
    f: Fixture,
    entries: HashMap<String, u64>,
}

impl Demo {
    fn load() -> Demo {
        let f = Fixture::bare();
        sightline_web::demo::load(&f.ledger, PUBLIC_URL).expect("the demo loads");
        let size = f.ledger.size();
        let mut entries = HashMap::new();
        for (i, bytes) in f.ledger.entries(0, size).expect("entries").iter().enumerate() {
            let e = Entry::parse(bytes).expect("entry");
            if let Some(id) = e.body["message_id"].as_str() {
                entries.insert(id.to_string(), i as u64);
            }
        }
        Demo { f, entries }
    }

    fn token(&self, message_id: &str) -> String {
        let index = *self.entries.get(message_id).unwrap_or_else(|| panic!("{message_id} is not in the demo"));
        self.f.ledger.why_token(index)
    }

    /// The why page of a message, as HTML and as the text a reader sees.
    async fn page(&self, message_id: &str) -> Page {
        let (status, _, html) = self.f.get(&format!("/why/{}", self.token(message_id))).await;
        assert_eq!(status, StatusCode::OK, "{message_id}");
        Page { text: text_of(&html), html }
    }
}

struct Page {
    html: String,
    text: String,
}

impl Page {
    fn says(&self, words: &str) -> &Page {
        assert!(self.text.contains(words), "the page does not say {words:?}:\n{}", self.text);
        self
    }

    fn never_says(&self, words: &str) -> &Page {
        assert!(!self.text.contains(words), "the page says {words:?}:\n{}", self.text);
        self
    }

    /// The one sentence that starts "You were selected because".
    fn selected_because(&self) -> &str {
        let at = self.text.find("You were selected because").unwrap_or_else(|| panic!("no selection sentence:\n{}", self.text));
        let rest = &self.text[at..];
        &rest[..rest.find(" held for you.").map_or(rest.len(), |e| e + " held for you.".len())]
    }
}

/// What a reader sees of an HTML page: the text without tags, entities decoded, white space
/// collapsed.
fn text_of(html: &str) -> String {
    let mut out = String::with_capacity(html.len());
    let mut in_tag = false;
    for c in html.chars() {
        match c {
            '<' => in_tag = true,
            '>' => {
                in_tag = false;
                out.push(' ');
            }
            c if !in_tag => out.push(c),
            _ => {}
        }
    }
    let out = out.replace("&#39;", "'").replace("&#34;", "\"").replace("&#60;", "<").replace("&#62;", ">").replace("&#38;", "&");
    out.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[tokio::test]
async fn the_ten_seed_scenarios_say_what_their_records_prove() {
    let d = Demo::load();

    // 1. The OCEAN personality dark post.
    let p = d.page("ocean-2026/alice-1").await;
    assert_eq!(
        p.selected_because(),
        "You were selected because criterion 1 (“Personality score: high neuroticism (OCEAN model)”) and criterion 2 (“Lives in a Bundestag constituency the sponsor rates as a 'swing' constituency”) held for you."
    );
    p.says("You were checked against exclusion criterion 3 (“People who follow the party's own page (so that its supporters do not see this post)”) and were not in it.")
        .says("Who the advertiser asked for: people matching criterion 1 and criterion 2 and not criterion 3.")
        .says("The value about you that was used: neuroticism score 0.86")
        .says("Shown only to the people it was targeted at (a “dark post”)")
        .says("Sie sollen nicht erfahren, was auf uns zukommt. Steigende Mieten")
        .says("Obtained through another person's permission (for example a friend's app), not yours")
        .says("data you manifestly made public yourself (GDPR Art. 9(2)(e))")
        .says("Dissemination period from 2026-11-01 to 2026-12-31")
        .says("Audience size 31,000 people");

    // 2. The automatic follow-up after a response: it links to the earlier message's own page.
    let p = d.page("ocean-followup-2026/alice-1").await;
    assert_eq!(
        p.selected_because(),
        "You were selected because criterion 1 (“Clicked or answered an earlier post of the personality campaign”) and criterion 2 (“More of the same: high neuroticism, the trait the earlier post was chosen for”) held for you."
    );
    p.says("This was another way into this audience; it was not checked for you, because you were in the audience another way.")
        .says("This message follows up on your response to an earlier message")
        .says("Your response to an earlier message this log holds (you clicked or answered it)");
    let earlier = format!("href=\"/why/{}\"", d.token("ocean-2026/alice-1"));
    assert!(p.html.contains(&earlier), "no link to the earlier message's page");

    // 3. Rally targeting by location and topic: two recipients, two branches.
    let alice = d.page("rally-mobility-2026/alice-1").await;
    assert!(alice.selected_because().contains("criterion 2 (“Declared interests: climate policy or European politics”)"));
    assert!(!alice.selected_because().contains("criterion 3"));
    alice.says("You were checked against exclusion criterion 4 (“People under 18 (age from the date of birth given at sign-up)”) and were not in it.")
        .says("The value about you that was checked: age 34 from your date of birth")
        .says("your explicit consent (GDPR Art. 9(2)(a))")
        .says("Published openly as well")
        .says("Suspended or removed before: Paused on 2026-11-12");
    let bob = d.page("rally-mobility-2026/bob-1").await;
    assert!(bob
        .selected_because()
        .contains("criterion 3 (“Engaged with posts on the topic of public transport or climate in the last 30 days”)"));
    assert!(!bob.selected_because().contains("criterion 2"));
    bob.says("Criterion 2 (“Declared interests: climate policy or European politics”) was another way into this audience, and it did not apply to you.");

    // 4. The voter-file warehouse, keyed by one voter id, with purchased sources.
    let p = d.page("housing-voters-2026/niamh-1").await;
    assert_eq!(
        p.selected_because(),
        "You were selected because criterion 1 (“Voter-file record scored 'persuadable on housing' in the campaign's data warehouse”) held for you."
    );
    p.says("The list was matched to people by: voter id (from the electoral register).")
        .says("Onboarded by Harbour Data Partners Ltd: voter ids matched to hashed e-mail addresses and mobile advertising ids")
        .says("Magazine subscriptions, mortgage and rental status and household income bands bought from consumer databases")
        .says("Data bought from a data broker was used")
        .says("a not-for-profit body's dealings with its members (GDPR Art. 9(2)(d))")
        .says("You were checked against exclusion criterion 2 (“Already a party member”) and were not in it.");

    // 5. Friend-to-friend mobilisation by text message.
    let p = d.page("referendum-app-2026/eva-1").await;
    p.says("Why you received a text message (SMS)")
        .says("You were selected because criterion 1 (“In the phone contacts a friend shared with the Europe Now app when they signed up”) held for you.")
        .says("The list was matched to people by: phone number.")
        .says("Data obtained through another person's permission, not yours, was used")
        .says("No consent from you: the supporter granted the app access to their contacts");

    // 6. The fundraiser lookalike with its seed audience: see the two-branch test below.
    let p = d.page("prosperity-fund-2026/bob-1").await;
    p.says("The audience this lookalike was grown from People on the voter file who donated to the party in 2024 or 2025 (4,200 people).");

    // 7. The predicted-pregnancy offer: health data on no Art. 9(2) condition.
    let p = d.page("baby-welcome-2026/alice-1").await;
    assert_eq!(
        p.selected_because(),
        "You were selected because criterion 1 (“Predicted to be pregnant (model based on purchases made with the loyalty card)”) and criterion 2 (“Kaufwelt Plus loyalty-card members”) held for you."
    );
    p.says("Unlawful on its face: special-category data on an ordinary legal basis")
        .says("Special-category data was used on no GDPR Art. 9(2) condition: unlawful on its face")
        .says("Special category of personal data: health")
        .says("This is a prediction about you, not a fact you gave; it may be wrong.");

    // 8. Loyalty-card segments, and where to change them.
    let p = d.page("club-vivo-2026/bob-1").await;
    assert!(p.selected_because().contains("criterion 2 (“Club Vivo loyalty segment 'wine enthusiasts', from your purchases”)"));
    assert!(!p.selected_because().contains("criterion 1"));
    p.says("Criterion 1 (“Club Vivo loyalty segment 'organic & plant-based', from your purchases”) was another way into this audience, and it did not apply to you.")
        .says("The value about you that was checked: 6% of your Club Vivo basket")
        .says("To change this parameter: https://www.mercadovivo.example/club/segmentos");

    // 9. A contextual TV and streaming buy: nothing about the viewer was used.
    let p = d.page("winter-tyres-2026/lars-1").await;
    p.says("Why you received a television advertisement")
        .says("No data about you selected you: the criteria that let this message reach you concern where it was placed.")
        .says("It was placed where criterion 1 (“Ad break of the programme 'Tatort' (crime drama), Sundays from 20:15”) and criterion 2 (“Regional feed of northern Germany and Denmark”) applied")
        .says("This concerns where the message was placed (the page, programme or search), not you")
        .never_says("You were selected because")
        .never_says("Where this data came from Demo");

    // 10. A marketing e-mail to an address bought from a broker.
    let p = d.page("winter-escape-2026/bob-1").await;
    p.says("How we got your address The sender reported where your address came from, source by source:")
        .says("ListHaus Direct GmbH (source s-broker-list )")
        .says("Bought from a data broker")
        .says("Entry form of an online prize draw ('Win a cruise for two') with a pre-ticked box for offers from partners")
        .says("consent receipt: ListHaus consent receipt LH-CR-2025-06-14-004417")
        .says("List-Unsubscribe");
}

/// Bob (France) and Niamh (Ireland) got the same fundraiser: Bob through the lookalike, Niamh
/// through the uploaded voter file. Each page names only its own branch and says the other did
/// not apply (or was not checked); neither claims a match the evaluation does not prove.
#[tokio::test]
async fn two_recipients_of_one_campaign_each_see_only_their_own_branch() {
    let d = Demo::load();
    let bob = d.page("prosperity-fund-2026/bob-1").await;
    assert_eq!(
        bob.selected_because(),
        "You were selected because criterion 2 (“Similar to past donors on the voter file (top 3% similarity)”) held for you."
    );
    bob.says("Criterion 1 (“On the voter file the campaign uploaded”) was another way into this audience, and it did not apply to you.")
        .says("The value about you that was used: similarity 0.97 to past donors")
        .never_says("Dublin Bay South")
        .never_says(
            "This held for you, and it is part of why you were selected. The value about you that was used: on the edited register",
        );
    let niamh = d.page("prosperity-fund-2026/niamh-1").await;
    assert_eq!(niamh.selected_because(), "You were selected because criterion 1 (“On the voter file the campaign uploaded”) held for you.");
    niamh
        .says("This was another way into this audience; it was not checked for you, because you were in the audience another way.")
        .says("on the edited register of electors for Dublin Bay South")
        .never_says("similarity 0.97");
    for p in [&bob, &niamh] {
        p.says("You were checked against exclusion criterion 3 (“People who already donated in 2026”) and were not in it.")
            .says("Who the advertiser asked for: people matching (criterion 1 or criterion 2) and not criterion 3.");
    }
}
