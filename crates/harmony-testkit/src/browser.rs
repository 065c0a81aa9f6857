//! A scripted browser for login pages: follows redirects, keeps cookies per host, reads the
//! forms of a page and submits them. Enough to log in at an identity provider's HTML login form
//! and approve a device or consent page in a test, without a real browser.

use std::collections::BTreeMap;

use ureq::Agent;

/// How many redirects one navigation follows.
const MAX_REDIRECTS: usize = 20;

/// A loaded page.
#[derive(Debug, Clone)]
pub struct Page {
    /// Its URL, after redirects.
    pub url: String,
    /// The HTTP status.
    pub status: u16,
    /// The body.
    pub html: String,
}

/// A form of a page: where it posts and its fields with their values.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Form {
    /// The `action` URL, entities decoded.
    pub action: String,
    /// `name` → `value` of its inputs (submit buttons included).
    pub fields: BTreeMap<String, String>,
    /// The names of its submit buttons: only the one clicked is sent.
    pub buttons: Vec<String>,
}

/// A cookie-keeping HTTP client that trusts one CA bundle.
pub struct Browser {
    agent: Agent,
    cookies: BTreeMap<String, BTreeMap<String, String>>,
}

/// Why a navigation failed.
#[derive(Debug, thiserror::Error)]
pub enum BrowserError {
    /// The request failed in transport.
    #[error("{url}: {source}")]
    Http {
        /// The URL.
        url: String,
        /// The cause.
        source: ureq::Error,
    },
    /// The page has no form with the wanted input.
    #[error("{url} has no form with an input `{input}`; the page:\n{html}")]
    NoForm {
        /// The page URL.
        url: String,
        /// The input looked for.
        input: String,
        /// The page, for the test's failure message.
        html: String,
    },
    /// Too many redirects.
    #[error("{0}: more than {MAX_REDIRECTS} redirects")]
    Redirects(String),
}

impl Browser {
    /// A browser trusting the PEM certificates in `ca_pem`.
    pub fn new(ca_pem: &str) -> Self {
        let tls = harmony_http::tls(Some(ca_pem.as_bytes())).expect("a CA bundle");
        let agent = Agent::config_builder()
            .max_redirects(0)
            .http_status_as_error(false)
            .timeout_global(Some(std::time::Duration::from_secs(30)))
            .tls_config(tls)
            .build()
            .new_agent();
        Self {
            agent,
            cookies: BTreeMap::new(),
        }
    }

    /// GETs `url`, following redirects.
    pub fn get(&mut self, url: &str) -> Result<Page, BrowserError> {
        self.navigate(url.to_string(), None)
    }

    /// Submits the form of `page` that has an input named `input` (clicking it, when it is a
    /// button), with its fields overridden by `values`, following redirects.
    pub fn submit(
        &mut self,
        page: &Page,
        input: &str,
        values: &[(&str, &str)],
    ) -> Result<Page, BrowserError> {
        let form = forms(&page.html)
            .into_iter()
            .find(|f| f.fields.contains_key(input))
            .ok_or_else(|| BrowserError::NoForm {
                url: page.url.clone(),
                input: input.to_string(),
                html: page.html.clone(),
            })?;
        let mut fields = form.fields;
        fields.retain(|name, _| name == input || !form.buttons.contains(name));
        for (name, value) in values {
            fields.insert(name.to_string(), value.to_string());
        }
        let body: String = form_urlencoded::Serializer::new(String::new())
            .extend_pairs(&fields)
            .finish();
        self.navigate(resolve(&page.url, &form.action), Some(body))
    }

    fn navigate(
        &mut self,
        mut url: String,
        mut post: Option<String>,
    ) -> Result<Page, BrowserError> {
        for _ in 0..MAX_REDIRECTS {
            let host = authority(&url).to_string();
            let cookie: Vec<String> = self
                .cookies
                .get(&host)
                .into_iter()
                .flatten()
                .map(|(k, v)| format!("{k}={v}"))
                .collect();
            let http = |source| BrowserError::Http {
                url: url.clone(),
                source,
            };
            let response = match post.take() {
                Some(body) => self
                    .agent
                    .post(&url)
                    .header("Cookie", cookie.join("; "))
                    .content_type("application/x-www-form-urlencoded")
                    .send(body),
                None => self
                    .agent
                    .get(&url)
                    .header("Cookie", cookie.join("; "))
                    .call(),
            }
            .map_err(http)?;
            let jar = self.cookies.entry(host).or_default();
            for set in response.headers().get_all("set-cookie") {
                let set = set.to_str().unwrap_or_default();
                let Some((name, rest)) = set.split_once('=') else {
                    continue;
                };
                let value = rest.split(';').next().unwrap_or_default();
                let expired = set.to_ascii_lowercase().contains("max-age=0");
                if expired || value.is_empty() {
                    jar.remove(name.trim());
                } else {
                    jar.insert(name.trim().to_string(), value.to_string());
                }
            }
            let status = response.status().as_u16();
            let location = response
                .headers()
                .get("location")
                .and_then(|l| l.to_str().ok())
                .map(String::from);
            match location {
                Some(next) if (300..400).contains(&status) => url = resolve(&url, &next),
                _ => {
                    let html = response.into_body().read_to_string().map_err(http)?;
                    return Ok(Page { url, status, html });
                }
            }
        }
        Err(BrowserError::Redirects(url))
    }
}

/// `host:port` of `url`.
fn authority(url: &str) -> &str {
    let rest = url.split_once("://").map_or(url, |(_, rest)| rest);
    rest.split(['/', '?', '#']).next().unwrap_or(rest)
}

/// `target` (absolute, or a path) relative to `base`.
fn resolve(base: &str, target: &str) -> String {
    if target.contains("://") {
        return target.to_string();
    }
    let scheme = base.split_once("://").map_or("https", |(s, _)| s);
    format!("{scheme}://{}{target}", authority(base))
}

/// The forms of `html`.
pub fn forms(html: &str) -> Vec<Form> {
    html.split("<form")
        .skip(1)
        .map(|form| {
            let form = form.split("</form>").next().unwrap_or(form);
            let head = form.split('>').next().unwrap_or_default();
            let action = attribute(head, "action").unwrap_or_default();
            let tags = |kind: &str| {
                form.split(kind)
                    .skip(1)
                    .map(|tag| tag.split('>').next().unwrap_or_default().to_string())
                    .collect::<Vec<_>>()
            };
            let inputs = tags("<input");
            let button_tags = tags("<button");
            let named = |tag: &String| {
                let name = attribute(tag, "name")?;
                Some((name, attribute(tag, "value").unwrap_or_default()))
            };
            let fields = inputs
                .iter()
                .chain(&button_tags)
                .filter_map(named)
                .collect();
            let buttons = inputs
                .iter()
                .filter(|tag| attribute(tag, "type").as_deref() == Some("submit"))
                .chain(&button_tags)
                .filter_map(|tag| attribute(tag, "name"))
                .collect();
            Form {
                action,
                fields,
                buttons,
            }
        })
        .collect()
}

/// The value of attribute `name` in a tag's text, entities decoded.
fn attribute(tag: &str, name: &str) -> Option<String> {
    let mut rest = tag;
    while let Some(at) = rest.find(&format!("{name}=\"")) {
        let before = rest[..at].chars().last();
        let value = &rest[at + name.len() + 2..];
        let end = value.find('"')?;
        if before.is_none_or(char::is_whitespace) {
            return Some(decode(&value[..end]));
        }
        rest = &value[end..];
    }
    None
}

/// `&amp;`, `&quot;`, `&lt;`, `&gt;`, `&#NN;` and `&#xNN;` decoded.
fn decode(text: &str) -> String {
    let mut out = String::new();
    let mut rest = text;
    while let Some(at) = rest.find('&') {
        out.push_str(&rest[..at]);
        let after = &rest[at + 1..];
        let Some(end) = after.find(';') else {
            out.push_str(&rest[at..]);
            return out;
        };
        let entity = &after[..end];
        let decoded = match entity {
            "amp" => Some('&'),
            "quot" => Some('"'),
            "lt" => Some('<'),
            "gt" => Some('>'),
            "apos" => Some('\''),
            _ => entity
                .strip_prefix("#x")
                .or_else(|| entity.strip_prefix("#X"))
                .and_then(|hex| u32::from_str_radix(hex, 16).ok())
                .or_else(|| entity.strip_prefix('#').and_then(|d| d.parse().ok()))
                .and_then(char::from_u32),
        };
        match decoded {
            Some(c) => {
                out.push(c);
                rest = &after[end + 1..];
            }
            None => {
                out.push('&');
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_forms_actions_and_inputs() {
        let html = r#"<form id="kc-form-login" action="https://kc/realms/t/login-actions/authenticate?session_code=a&amp;execution=b&#x3d;" method="post">
            <input tabindex="1" id="username" name="username" value="" type="text">
            <input type="hidden" id="id-hidden-input" name="credentialId"/>
            </form><form action="/consent"><input type="hidden" name="code" value="c1"><input name="accept" type="submit" value="Yes"><input name="cancel" type="submit" value="No"></form>"#;
        let forms = forms(html);
        assert_eq!(
            forms[0].action,
            "https://kc/realms/t/login-actions/authenticate?session_code=a&execution=b="
        );
        assert_eq!(forms[0].fields["username"], "");
        assert_eq!(forms[0].fields["credentialId"], "");
        assert_eq!(forms[1].fields["code"], "c1");
        assert_eq!(forms[1].fields["accept"], "Yes");
        assert_eq!(forms[1].buttons, ["accept", "cancel"]);
        assert_eq!(
            resolve("https://kc:8443/a/b?c", "/consent"),
            "https://kc:8443/consent"
        );
        assert_eq!(authority("http://localhost:8000/?code=1"), "localhost:8000");
    }
}
