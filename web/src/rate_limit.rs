//! Per-client rate limits (SPEC.md §13): one GCRA limiter (`governor`) per class of route,
//! keyed by the client's address, answered `429` with `Retry-After`.
//!
//! A client is its IPv4 address, or the /64 network of its IPv6 address (one host is usually
//! given a whole /64, so counting single IPv6 addresses would let it rotate through them).
//! Requests without a peer address (in-process tests through `tower::ServiceExt::oneshot`) are
//! not limited. Behind a reverse proxy every client shares the proxy's address: limit there, or
//! raise these limits.

use std::fmt;
use std::net::IpAddr;
use std::num::NonZeroU32;
use std::str::FromStr;
use std::time::Duration;

use axum::http::Method;
use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota};

/// The classes of routes that are limited, each with its own limit.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RateClass {
    /// `POST /api/v1/submissions`
    Submissions,
    /// The operator's and compliance team's endpoints (`/api/v1/admin/…`, `/api/v1/compliance/…`,
    /// `/api/v1/export`).
    Admin,
    /// The recipients' forms (`POST /why/<token>/…`).
    Forms,
    /// The recipients' pages (`GET /why/<token>…`).
    WhyReads,
}

impl RateClass {
    /// Every class, in a fixed order.
    pub const ALL: [RateClass; 4] = [RateClass::Submissions, RateClass::Admin, RateClass::Forms, RateClass::WhyReads];

    /// The class of a request, from its method and the route it matched; `None`: not limited.
    pub fn of(method: &Method, route: &str) -> Option<RateClass> {
        if route == "/api/v1/submissions" {
            Some(RateClass::Submissions)
        } else if route.starts_with("/api/v1/admin/") || route.starts_with("/api/v1/compliance/") || route == "/api/v1/export" {
            Some(RateClass::Admin)
        } else if route.starts_with("/why/") {
            Some(if method == Method::GET || method == Method::HEAD { RateClass::WhyReads } else { RateClass::Forms })
        } else {
            None
        }
    }

    /// What its requests are, in a message.
    pub fn describe(self) -> &'static str {
        match self {
            RateClass::Submissions => "submission",
            RateClass::Admin => "admin and compliance",
            RateClass::Forms => "recipient form",
            RateClass::WhyReads => "recipient page",
        }
    }

    /// The `/metrics` refusal reason of a request of this class over its limit.
    pub fn refusal(self) -> &'static str {
        match self {
            RateClass::Submissions => "rate_limited_submissions",
            RateClass::Admin => "rate_limited_admin",
            RateClass::Forms => "rate_limited_forms",
            RateClass::WhyReads => "rate_limited_why_reads",
        }
    }
}

/// A rate as the command line gives it: `N/s`, `N/min` or `N/h`, optionally `,B` for a burst
/// of B requests (default: N), or `off`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RateSpec(pub Option<(NonZeroU32, Duration, NonZeroU32)>);

impl RateSpec {
    /// `n` requests per `per`, bursts of `burst`.
    pub fn new(n: u32, per: Duration, burst: u32) -> RateSpec {
        RateSpec(NonZeroU32::new(n).zip(NonZeroU32::new(burst)).map(|(n, b)| (n, per, b)))
    }

    /// No limit.
    pub const OFF: RateSpec = RateSpec(None);

    fn quota(self) -> Option<Quota> {
        let (n, per, burst) = self.0?;
        Quota::with_period(per / n.get()).map(|q| q.allow_burst(burst))
    }
}

impl FromStr for RateSpec {
    type Err = String;

    fn from_str(s: &str) -> Result<RateSpec, String> {
        if s == "off" {
            return Ok(RateSpec::OFF);
        }
        let bad = || format!("`{s}` is not a rate: write N/s, N/min or N/h, optionally followed by ,BURST (e.g. 20/s,100), or off");
        let (rate, burst) = match s.split_once(',') {
            Some((r, b)) => (r, Some(b)),
            None => (s, None),
        };
        let (n, unit) = rate.split_once('/').ok_or_else(bad)?;
        let n: NonZeroU32 = n.trim().parse().map_err(|_| bad())?;
        let per = match unit.trim() {
            "s" => Duration::from_secs(1),
            "min" => Duration::from_secs(60),
            "h" => Duration::from_secs(3600),
            _ => return Err(bad()),
        };
        let burst = match burst {
            Some(b) => b.trim().parse::<NonZeroU32>().map_err(|_| bad())?,
            None => n,
        };
        Ok(RateSpec(Some((n, per, burst))))
    }
}

impl fmt::Display for RateSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let Some((n, per, burst)) = self.0 else { return f.write_str("off") };
        let unit = match per.as_secs() {
            1 => "s",
            60 => "min",
            _ => "h",
        };
        write!(f, "{n}/{unit}")?;
        if burst != n {
            write!(f, ",{burst}")?;
        }
        Ok(())
    }
}

/// The limit of each class.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RateLimits {
    /// `POST /api/v1/submissions`.
    pub submissions: RateSpec,
    /// The admin and compliance endpoints.
    pub admin: RateSpec,
    /// The recipients' forms.
    pub forms: RateSpec,
    /// The recipients' pages.
    pub why_reads: RateSpec,
}

impl Default for RateLimits {
    /// Generous for real use and for the project's own tests (SPEC.md §13).
    fn default() -> Self {
        RateLimits {
            submissions: RateSpec::new(500, Duration::from_secs(1), 1000),
            admin: RateSpec::new(20, Duration::from_secs(1), 100),
            forms: RateSpec::new(2, Duration::from_secs(1), 20),
            why_reads: RateSpec::new(50, Duration::from_secs(1), 200),
        }
    }
}

impl RateLimits {
    fn of(&self, class: RateClass) -> RateSpec {
        match class {
            RateClass::Submissions => self.submissions,
            RateClass::Admin => self.admin,
            RateClass::Forms => self.forms,
            RateClass::WhyReads => self.why_reads,
        }
    }
}

/// The running limiters, one per class that has a limit.
pub struct RateLimiters {
    limiters: [Option<DefaultKeyedRateLimiter<IpAddr>>; 4],
    clock: DefaultClock,
}

impl RateLimiters {
    /// The limiters of `limits`.
    pub fn new(limits: &RateLimits) -> RateLimiters {
        RateLimiters {
            limiters: RateClass::ALL.map(|c| limits.of(c).quota().map(DefaultKeyedRateLimiter::keyed)),
            clock: DefaultClock::default(),
        }
    }

    /// Counts one request of `class` from `ip`; `Err(wait)` when it is over the limit.
    pub fn check(&self, class: RateClass, ip: IpAddr) -> Result<(), Duration> {
        let Some(limiter) = &self.limiters[class as usize] else { return Ok(()) };
        limiter.check_key(&client_key(ip)).map_err(|not_until| not_until.wait_time_from(self.clock.now()))
    }

    /// Forgets clients whose limits are back at full burst (bounds the memory an address
    /// sweep can take); run it now and then.
    pub fn forget_idle_clients(&self) {
        for limiter in self.limiters.iter().flatten() {
            limiter.retain_recent();
            limiter.shrink_to_fit();
        }
    }
}

/// Who a client is for limits: its IPv4 address, or its IPv6 /64 (an IPv4-mapped IPv6 address
/// counts as the IPv4 address).
pub fn client_key(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V4(v4) => IpAddr::V4(v4),
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => {
                let mut seg = v6.segments();
                seg[4..].fill(0);
                IpAddr::V6(seg.into())
            }
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rates_parse_and_print_back() {
        for s in ["20/s", "20/s,100", "3/min", "1/h,5", "off"] {
            assert_eq!(s.parse::<RateSpec>().unwrap().to_string(), s);
        }
        for bad in ["", "20", "20/day", "0/s", "x/s", "20/s,0", "20/s,", "-1/s"] {
            assert!(bad.parse::<RateSpec>().is_err(), "{bad}");
        }
    }

    #[test]
    fn beyond_the_burst_a_client_waits_and_others_do_not() {
        let limits = RateLimits { why_reads: "2/min,2".parse().unwrap(), ..RateLimits::default() };
        let l = RateLimiters::new(&limits);
        let a: IpAddr = "192.0.2.1".parse().unwrap();
        let b: IpAddr = "192.0.2.2".parse().unwrap();
        assert!(l.check(RateClass::WhyReads, a).is_ok());
        assert!(l.check(RateClass::WhyReads, a).is_ok());
        let wait = l.check(RateClass::WhyReads, a).unwrap_err();
        assert!(wait > Duration::from_secs(20) && wait <= Duration::from_secs(30), "{wait:?}");
        assert!(l.check(RateClass::WhyReads, b).is_ok(), "another client has its own limit");
        assert!(l.check(RateClass::Forms, a).is_ok(), "another class has its own limit");
    }

    #[test]
    fn an_ipv6_client_is_its_64_and_a_mapped_ipv4_is_the_ipv4() {
        let a: IpAddr = "2001:db8:1:2:aaaa::1".parse().unwrap();
        let b: IpAddr = "2001:db8:1:2:bbbb::9".parse().unwrap();
        let c: IpAddr = "2001:db8:1:3::1".parse().unwrap();
        assert_eq!(client_key(a), client_key(b));
        assert_ne!(client_key(a), client_key(c));
        assert_eq!(client_key("::ffff:192.0.2.1".parse().unwrap()), "192.0.2.1".parse::<IpAddr>().unwrap());
    }

    #[test]
    fn routes_fall_in_their_class() {
        assert_eq!(RateClass::of(&Method::POST, "/api/v1/submissions"), Some(RateClass::Submissions));
        assert_eq!(RateClass::of(&Method::POST, "/api/v1/admin/parties"), Some(RateClass::Admin));
        assert_eq!(RateClass::of(&Method::POST, "/api/v1/compliance/erase"), Some(RateClass::Admin));
        assert_eq!(RateClass::of(&Method::POST, "/why/{token}/erase"), Some(RateClass::Forms));
        assert_eq!(RateClass::of(&Method::GET, "/why/{token}/messages"), Some(RateClass::WhyReads));
        assert_eq!(RateClass::of(&Method::GET, "/checkpoint"), None);
    }
}
