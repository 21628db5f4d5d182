//! The code lists of SPEC.md §1, checked against the real lists (well-kept crates that carry
//! them): ISO 3166-1 alpha-2 countries (`celes`), ISO 639-1 languages (`isolang`) and ISO 4217
//! currencies (`iso_currency`). A code of the right shape that names nothing (`XX`, `xx`,
//! `XYZ`) is refused. EU Member States are their own list of 27 ([`MEMBER_STATES`]).

/// EU Member States as SPEC.md §1 spells them (`EL` for Greece).
pub const MEMBER_STATES: [&str; 27] = [
    "AT", "BE", "BG", "CY", "CZ", "DE", "DK", "EE", "EL", "ES", "FI", "FR", "HR", "HU", "IE", "IT", "LT", "LU", "LV", "MT", "NL", "PL",
    "PT", "RO", "SE", "SI", "SK",
];

/// Whether `s` is an EU Member State code as SPEC.md §1 spells them.
pub fn is_member_state(s: &str) -> bool {
    MEMBER_STATES.contains(&s)
}

/// Whether `s` is an ISO 3166-1 alpha-2 country code as SPEC.md §1 takes it: two upper-case
/// letters the list assigns (as `celes` carries it, which includes `XK` for Kosovo), or `EL`,
/// the EU's code for Greece.
pub fn is_country(s: &str) -> bool {
    s.len() == 2 && s.bytes().all(|b| b.is_ascii_uppercase()) && (s == "EL" || celes::Country::from_alpha2(s).is_ok())
}

/// Whether `s` is an ISO 639-1 language code: two lower-case letters the list assigns.
pub fn is_language(s: &str) -> bool {
    s.len() == 2 && s.bytes().all(|b| b.is_ascii_lowercase()) && isolang::Language::from_639_1(s).is_some()
}

/// Whether `s` is an ISO 4217 currency code: three upper-case letters the list assigns.
pub fn is_currency(s: &str) -> bool {
    s.len() == 3 && s.bytes().all(|b| b.is_ascii_uppercase()) && iso_currency::Currency::from_code(s).is_some()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn real_codes_pass_and_made_up_ones_do_not() {
        for c in ["DE", "GR", "EL", "US", "JP", "CH", "GB", "XK"] {
            assert!(is_country(c), "{c}");
        }
        for c in ["XX", "ZZ", "UK", "de", "D", "DEU", "", "Ä1"] {
            assert!(!is_country(c), "{c}");
        }
        for l in ["de", "en", "el", "ga", "mt"] {
            assert!(is_language(l), "{l}");
        }
        for l in ["xx", "qq", "DE", "deu", "d", ""] {
            assert!(!is_language(l), "{l}");
        }
        for c in ["EUR", "USD", "CHF", "PLN", "JPY"] {
            assert!(is_currency(c), "{c}");
        }
        for c in ["XYZ", "ABC", "eur", "EU", "EURO", ""] {
            assert!(!is_currency(c), "{c}");
        }
    }

    #[test]
    fn member_states_are_countries_and_greece_is_el() {
        for m in MEMBER_STATES {
            assert!(is_country(m), "{m}");
        }
        assert!(is_member_state("EL") && !is_member_state("GR") && !is_member_state("CH"));
    }
}
