//! Submissions over HTTP (SPEC.md §12): the `Authorization: Sightline v1 …` header a submitter
//! signs, and the [`Server`] methods that send batches authenticated as their signer.

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use ed25519_dalek::Signer;
use serde_json::{json, Value};

use crate::{http_post, now_unix, Resp, Server, Submitter, ORIGIN};

impl Submitter {
    /// The `Authorization` header of a submission to a test server ([`ORIGIN`]), signed now.
    pub fn auth_header(&self) -> String {
        self.auth_header_at(ORIGIN, now_unix())
    }

    /// The `Authorization` header of a submission to the log `origin` at Unix time `unix`
    /// (SPEC.md §12): `Sightline v1 <id> <unix> <sig>`, the signature by this submitter's key
    /// over `"sightline/request/v1\n" || origin || "\n" || id || "\n" || unix || "\n" ||
    /// "POST /api/v1/submissions\n"`.
    pub fn auth_header_at(&self, origin: &str, unix: i64) -> String {
        let signed = format!("sightline/request/v1\n{origin}\n{}\n{unix}\nPOST /api/v1/submissions\n", self.id);
        format!("Sightline v1 {} {unix} {}", self.id, B64.encode(self.key.sign(signed.as_bytes()).to_bytes()))
    }
}

impl Server {
    /// Remembers a submitter registered earlier (e.g. before a restart), for [`Server::submit`].
    pub fn knows(&self, s: &Submitter) {
        let mut known = self.submitters.lock().expect("submitters lock");
        known.retain(|k| k.id != s.id);
        known.push(s.clone());
    }

    /// The submitter a submission body is sent as: the one named by its first record's
    /// `body.signer` if this server knows it, otherwise the first one it registered.
    fn sender_of(&self, body: &[u8]) -> Option<Submitter> {
        let known = self.submitters.lock().expect("submitters lock");
        let signer =
            serde_json::from_slice::<Value>(body).ok().and_then(|v| v["records"][0]["body"]["signer"].as_str().map(str::to_string));
        signer.and_then(|id| known.iter().find(|k| k.id == id).cloned()).or_else(|| known.first().cloned())
    }

    /// `POST /api/v1/submissions` with a raw body (`content_type` as given, none if `None`),
    /// authenticated as the submitter of its first record if this server knows it, otherwise
    /// as the first submitter it registered (no `Authorization` header if it knows none).
    pub fn post_submission(&self, content_type: Option<&str>, body: &[u8]) -> Resp {
        let auth = self.sender_of(body).map(|s| s.auth_header_at(&self.origin, now_unix()));
        let mut headers: Vec<(&str, &str)> = content_type.map(|c| vec![("content-type", c)]).unwrap_or_default();
        if let Some(a) = &auth {
            headers.push(("authorization", a));
        }
        http_post(&self.url("/api/v1/submissions"), &headers, body)
    }

    /// `POST /api/v1/submissions` of a JSON value, as [`Server::post_submission`].
    pub fn post_submission_json(&self, body: &Value) -> Resp {
        self.post_submission(Some("application/json"), body.to_string().as_bytes())
    }

    /// Posts a batch of signed records, authenticated as their signer (which this server must
    /// have registered, or been told about with [`Server::knows`]); asserts 200 and returns the
    /// response body.
    pub fn submit(&self, records: &[Value]) -> Value {
        let body = json!({ "records": records }).to_string();
        let signer = records.first().and_then(|r| r["body"]["signer"].as_str()).unwrap_or_default();
        let known = self.sender_of(body.as_bytes()).is_some_and(|s| s.id == signer);
        assert!(known, "Server::submit: submitter `{signer}` was not registered through this Server; call server.knows(&submitter) first");
        let r = self.post_submission(Some("application/json"), body.as_bytes());
        assert_eq!(r.status, 200, "submission failed: {}", r.text());
        r.json()
    }
}
