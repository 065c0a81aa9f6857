//! The authorization code grant with PKCE (RFC 7636, S256) on a loopback redirect (RFC 8252):
//! listen on `127.0.0.1`, show the authorization URL, take the one redirect that carries our
//! `state`, exchange its code with the verifier.

use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::time::{Duration, Instant};

use super::http::{Endpoints, IdpClient, TokenReply};
use super::pkce::{Pkce, random};
use super::{CachedTokens, OidcError};

/// The loopback ports tried by default (kubelogin's; the kubectl client's redirect URIs list
/// `http://localhost:8000` and `http://localhost:18000`).
pub const DEFAULT_REDIRECT_PORTS: [u16; 2] = [8000, 18000];

/// How long the member has to log in.
const LOGIN_TIMEOUT: Duration = Duration::from_secs(300);

/// Logs in with the authorization code grant; the URL to open goes to `prompt`.
pub(super) fn login(
    client: &IdpClient,
    endpoints: &Endpoints,
    client_id: &str,
    ports: &[u16],
    prompt: &mut dyn Write,
) -> Result<CachedTokens, OidcError> {
    let (listener, port) = listen(ports)?;
    let redirect = format!("http://localhost:{port}");
    let pkce = Pkce::new();
    let state = random();
    let query: String = form_urlencoded::Serializer::new(String::new())
        .append_pair("response_type", "code")
        .append_pair("client_id", client_id)
        .append_pair("redirect_uri", &redirect)
        .append_pair("scope", "openid")
        .append_pair("state", &state)
        .append_pair("code_challenge", &pkce.challenge)
        .append_pair("code_challenge_method", "S256")
        .finish();
    let separator = if endpoints.authorization_endpoint.contains('?') {
        '&'
    } else {
        '?'
    };
    let _ = writeln!(
        prompt,
        "To log in, open in a browser on this machine:\n{}{separator}{query}",
        endpoints.authorization_endpoint
    );
    let code = await_redirect(&listener, &state)?;
    let form = [
        ("grant_type", "authorization_code"),
        ("client_id", client_id),
        ("code", code.as_str()),
        ("redirect_uri", redirect.as_str()),
        ("code_verifier", pkce.verifier.as_str()),
    ];
    match client.token(endpoints, &form)? {
        TokenReply::Tokens(tokens) => Ok(tokens),
        TokenReply::Refused(e) => Err(OidcError::refused(&endpoints.token_endpoint, e)),
    }
}

/// The first of `ports` free on 127.0.0.1.
fn listen(ports: &[u16]) -> Result<(TcpListener, u16), OidcError> {
    let mut last = String::from("no port given");
    for &port in ports {
        match TcpListener::bind(("127.0.0.1", port)) {
            Ok(listener) => return Ok((listener, port)),
            Err(e) => last = e.to_string(),
        }
    }
    let ports: Vec<String> = ports.iter().map(u16::to_string).collect();
    Err(OidcError::Listen {
        ports: ports.join(", "),
        reason: last,
    })
}

/// The `code` of the first redirect carrying `state` (others are answered 400 and ignored).
fn await_redirect(listener: &TcpListener, state: &str) -> Result<String, OidcError> {
    let deadline = Instant::now() + LOGIN_TIMEOUT;
    listener
        .set_nonblocking(true)
        .map_err(|e| OidcError::Redirect(format!("could not be awaited ({e})")))?;
    loop {
        match listener.accept() {
            Ok((stream, _)) => {
                if let Some(result) = handle(stream, state) {
                    return result;
                }
            }
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {
                if Instant::now() >= deadline {
                    return Err(OidcError::TimedOut(LOGIN_TIMEOUT));
                }
                std::thread::sleep(Duration::from_millis(100));
            }
            Err(e) => return Err(OidcError::Redirect(format!("could not be accepted ({e})"))),
        }
    }
}

/// Answers one request to the loopback listener: `None` when it is not our redirect.
fn handle(mut stream: TcpStream, state: &str) -> Option<Result<String, OidcError>> {
    let _ = stream.set_nonblocking(false);
    let _ = stream.set_read_timeout(Some(Duration::from_secs(5)));
    let mut line = String::new();
    BufReader::new(&stream).read_line(&mut line).ok()?;
    let target = line.split_whitespace().nth(1)?;
    let outcome = redirect_outcome(target, state);
    let (status, text) = match &outcome {
        Some(Ok(_)) => ("200 OK", "Logged in: you may close this window."),
        Some(Err(_)) => ("400 Bad Request", "The login failed: see the terminal."),
        None => ("400 Bad Request", "Not a login redirect."),
    };
    let _ = write!(
        stream,
        "HTTP/1.1 {status}\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{text}",
        text.len()
    );
    outcome
}

/// What the redirect to `target` (`/?code=..&state=..`) says: `None` without our `state`.
fn redirect_outcome(target: &str, state: &str) -> Option<Result<String, OidcError>> {
    let query = target.split_once('?')?.1;
    let pairs: Vec<(String, String)> = form_urlencoded::parse(query.as_bytes())
        .into_owned()
        .collect();
    let get = |key: &str| pairs.iter().find(|(k, _)| k == key).map(|(_, v)| v.clone());
    if get("state").as_deref() != Some(state) {
        return None;
    }
    Some(match (get("code"), get("error")) {
        (Some(code), None) => Ok(code),
        (_, Some(error)) => Err(OidcError::Redirect(format!(
            "carried the error {error}{}",
            get("error_description")
                .map(|d| format!(" ({d})"))
                .unwrap_or_default()
        ))),
        (None, None) => Err(OidcError::Redirect("carried no code".into())),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_redirect_with_our_state_counts() {
        assert!(redirect_outcome("/?code=c&state=other", "s").is_none());
        assert!(redirect_outcome("/favicon.ico", "s").is_none());
        assert_eq!(
            redirect_outcome("/?state=s&code=c%2F1", "s")
                .unwrap()
                .unwrap(),
            "c/1"
        );
        let error = redirect_outcome("/?state=s&error=access_denied", "s")
            .unwrap()
            .unwrap_err()
            .to_string();
        assert!(error.contains("access_denied"), "{error}");
    }

    #[test]
    fn a_loopback_redirect_is_answered_and_its_code_taken() {
        let (listener, port) = listen(&[0]).unwrap();
        let port = if port == 0 {
            listener.local_addr().unwrap().port()
        } else {
            port
        };
        let browser = std::thread::spawn(move || {
            let mut stream = TcpStream::connect(("127.0.0.1", port)).unwrap();
            write!(stream, "GET /favicon.ico HTTP/1.1\r\n\r\n").unwrap();
            let mut stream = TcpStream::connect(("127.0.0.1", port)).unwrap();
            write!(
                stream,
                "GET /?code=abc&state=s1 HTTP/1.1\r\nHost: localhost\r\n\r\n"
            )
            .unwrap();
            let mut answer = String::new();
            std::io::Read::read_to_string(&mut stream, &mut answer).unwrap();
            answer
        });
        assert_eq!(await_redirect(&listener, "s1").unwrap(), "abc");
        assert!(browser.join().unwrap().starts_with("HTTP/1.1 200 OK"));
    }
}
