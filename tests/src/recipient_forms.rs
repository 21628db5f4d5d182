//! The recipient forms of a message's page (SPEC.md §12 "Recipients"), sent the way a
//! browser sends them from that page: the link's form token read from the page, the
//! fields, `application/x-www-form-urlencoded`, this server's `Origin`.

use crate::{http_post, Resp, Server};

impl Server {
    /// Posts a recipient form the way the page of a message sends it (SPEC.md §12
    /// "Recipients"): reads the form token from the page at `why_path` (`/why/<token>`), then
    /// posts it with `fields` to `<why_path>/<action>` as a form, from this server's origin.
    pub fn post_rights(&self, why_path: &str, action: &str, fields: &[(&str, &str)]) -> Resp {
        let page = self.get(why_path);
        assert_eq!(page.status, 200, "GET {why_path}");
        let csrf = hidden_value(&page.text(), "csrf").unwrap_or_else(|| panic!("the page {why_path} has no form token"));
        let mut form = form_urlencoded::Serializer::new(String::new());
        form.append_pair("csrf", &csrf);
        for (k, v) in fields {
            form.append_pair(k, v);
        }
        let headers = [("content-type", "application/x-www-form-urlencoded"), ("origin", self.base.as_str())];
        http_post(&self.url(&format!("{why_path}/{action}")), &headers, form.finish().as_bytes())
    }
}

/// The value of the first hidden input `name` of an HTML page (e.g. a form's `csrf` token).
pub fn hidden_value(page: &str, name: &str) -> Option<String> {
    let at = page.find(&format!(r#"type="hidden" name="{name}" value=""#))?;
    let rest = page[at..].split_once("value=\"")?.1;
    Some(rest.split('"').next()?.to_string())
}
