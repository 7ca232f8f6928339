//! The WebDriver client against real headless Chromium and a tiny HTTP server started here on a free port.
//! The server serves three pages: a form, two lists to drag between with pointer events, and a page that shows the browser's language.

use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::time::Duration;

use pipewise_test_support::browser::{Browser, keys, screenshot_dir};
use serde_json::json;

const FORM_PAGE: &str = r#"<!doctype html>
<html><head><meta charset="utf-8"><title>Form page</title></head>
<body>
  <form id="deal-form">
    <input id="deal-name" name="deal-name" placeholder="Deal name">
    <input id="deal-amount" name="deal-amount">
    <button id="save" type="submit">Save</button>
  </form>
  <p id="output"></p>
  <p id="hidden-note" style="display: none">hidden</p>
  <ul><li class="stage">Lead</li><li class="stage">Qualified</li><li class="stage">Won</li></ul>
  <div id="later"></div>
  <script>
    document.getElementById('deal-form').addEventListener('submit', (event) => {
      event.preventDefault();
      const name = document.getElementById('deal-name').value;
      const amount = document.getElementById('deal-amount').value;
      document.getElementById('output').textContent = 'saved ' + name + ' for ' + amount;
    });
    setTimeout(() => { document.getElementById('later').innerHTML = '<span id="late">arrived late</span>'; }, 300);
  </script>
</body></html>"#;

/// Two lists; pressing an item, moving and releasing over the other list moves the item there.
/// Only trusted pointer events count, so synthetic `dispatchEvent` calls from a script could not pass this test.
const DRAG_PAGE: &str = r#"<!doctype html>
<html><head><meta charset="utf-8"><title>Drag page</title>
<style>
  body { display: flex; gap: 80px; font-family: sans-serif; }
  ul { width: 240px; min-height: 300px; border: 2px solid #888; padding: 8px; list-style: none; touch-action: none; }
  li { padding: 12px; margin: 6px 0; background: #def; user-select: none; }
</style></head>
<body>
  <ul id="open"><li id="card-1">Acme renewal</li><li id="card-2">Globex pilot</li></ul>
  <ul id="won"><li id="card-3">Initech upgrade</li></ul>
  <p id="log">idle</p>
  <script>
    let dragged = null;
    let trustedMoves = 0;
    document.addEventListener('pointerdown', (event) => {
      const item = event.target.closest('li');
      if (!item || !event.isTrusted) return;
      dragged = item;
      trustedMoves = 0;
      event.preventDefault();
    });
    document.addEventListener('pointermove', (event) => {
      if (dragged && event.isTrusted && event.buttons === 1) trustedMoves += 1;
    });
    document.addEventListener('pointerup', (event) => {
      if (!dragged || !event.isTrusted) return;
      const list = document.elementsFromPoint(event.clientX, event.clientY).map((element) => element.closest('ul')).find(Boolean);
      if (list) list.appendChild(dragged);
      document.getElementById('log').textContent = 'dropped ' + dragged.id + ' on ' + (list ? list.id : 'nothing') + ' after ' + trustedMoves + ' moves';
      dragged = null;
    });
  </script>
</body></html>"#;

#[test]
fn form_keyboard_scripts_cookies_and_screenshot() {
    let Some(browser) = Browser::start() else { return };
    let site = start_test_site();

    browser.goto(&format!("{site}/form")).expect("the form page loads");
    assert_eq!(browser.title().expect("title"), "Form page");
    assert_eq!(browser.current_url().expect("current URL"), format!("{site}/form"));
    assert!(browser.page_source().expect("page source").contains("id=\"deal-form\""));

    // Typing, Tab to the next input and a click on the button.
    let deal_name = browser.find("#deal-name").expect("the name input");
    assert_eq!(deal_name.attribute("placeholder").expect("placeholder"), Some("Deal name".to_owned()));
    assert_eq!(deal_name.attribute("data-missing").expect("a missing attribute"), None);
    deal_name.send_keys("Acme renewal").expect("typing into the name input");
    browser.press_keys(&[keys::TAB, "12000"]).expect("Tab and typing");
    assert_eq!(browser.find("#deal-amount").and_then(|amount| amount.property("value")).expect("amount value"), json!("12000"));
    browser.find("#save").and_then(|save| save.click()).expect("clicking Save");
    assert_eq!(browser.find("#output").and_then(|output| output.text()).expect("output"), "saved Acme renewal for 12000");

    // Clearing, Shift+Tab back and Enter to submit.
    deal_name.clear().expect("clearing the name input");
    assert_eq!(deal_name.property("value").expect("name value"), json!(""));
    deal_name.send_keys("Globex").expect("typing a new name");
    browser.press_keys(&[keys::TAB, &[keys::SHIFT, keys::TAB].concat(), keys::END, "!", keys::ENTER]).expect("Shift+Tab, End and Enter");
    assert_eq!(browser.find("#output").and_then(|output| output.text()).expect("output"), "saved Globex! for 12000");
    // A reload brings back the page as served.
    browser.refresh().expect("reloading");
    assert_eq!(browser.find("#output").and_then(|output| output.text()).expect("output after reload"), "");

    // Waiting, visibility and several matches.
    let late = browser.wait_for("#late", Duration::from_secs(5)).expect("the late element appears");
    assert_eq!(late.text().expect("late text"), "arrived late");
    let waited_too_little = browser.wait_for("#never", Duration::from_millis(200)).expect_err("nothing matches #never");
    assert!(waited_too_little.contains("no element matched `#never`") && waited_too_little.contains("/form"), "{waited_too_little}");
    assert!(!browser.find("#hidden-note").and_then(|note| note.is_displayed()).expect("hidden note"));
    assert!(browser.find("#save").and_then(|save| save.is_displayed()).expect("save button"));
    let stages = browser.find_all("li.stage").expect("stages");
    let stage_names: Vec<String> = stages.iter().map(|stage| stage.text().expect("stage text")).collect();
    assert_eq!(stage_names, ["Lead", "Qualified", "Won"]);
    assert!(browser.find_all(".none").expect("no matches").is_empty());

    // A missing element is an error carrying WebDriver's error code.
    let missing = browser.find("#missing").expect_err("#missing does not exist");
    assert!(missing.starts_with("WebDriver POST /element: no such element:") && missing.contains("#missing"), "{missing}");

    // Scripts get arguments, elements included, and return JSON.
    assert_eq!(browser.execute("return arguments[0] + arguments[1].length;", &[json!(40), json!([1, 2])]).expect("script"), json!(42));
    let tag = browser
        .execute("return arguments[0].tagName;", &[browser.find("#deal-name").expect("the reloaded name input").to_script_argument()])
        .expect("script with an element");
    assert_eq!(tag, json!("INPUT"));
    let thrown = browser.execute("throw new Error('boom');", &[]).expect_err("the script throws");
    assert!(thrown.contains("javascript error") && thrown.contains("boom"), "{thrown}");

    // Cookies.
    browser.execute("document.cookie = 'pipewise_session=abc123; path=/';", &[]).expect("setting a cookie");
    let cookies = browser.cookies().expect("cookies");
    assert_eq!(
        cookies.iter().map(|cookie| (cookie.name.as_str(), cookie.value.as_str())).collect::<Vec<_>>(),
        [("pipewise_session", "abc123")]
    );
    browser.delete_cookies().expect("deleting cookies");
    assert_eq!(browser.cookies().expect("cookies"), []);

    // The default language is US English, in the UI and on the wire.
    browser.goto(&format!("{site}/language")).expect("the language page loads");
    assert_eq!(language_report(&browser), "navigator.language=en-US accept-language=en-US,en;q=0.9");

    // Window size and a screenshot.
    browser.set_window_size(1024, 700).expect("resizing");
    assert_eq!(browser.execute("return window.outerWidth;", &[]).expect("outer width"), json!(1024));
    browser.goto(&format!("{site}/form")).expect("the form page loads again");
    let screenshot_path = screenshot_dir().join("pipewise-test-support-form.png");
    browser.screenshot(&screenshot_path).expect("screenshot");
    let png = std::fs::read(&screenshot_path).expect("the screenshot file exists");
    assert!(png.starts_with(b"\x89PNG\r\n\x1a\n") && png.len() > 1000, "{} is not a PNG", screenshot_path.display());
}

#[test]
fn drag_to_sends_real_pointer_events() {
    let Some(browser) = Browser::start() else { return };
    let site = start_test_site();
    browser.goto(&format!("{site}/drag")).expect("the drag page loads");

    let card = browser.find("#card-1").expect("the first card");
    let won_list = browser.find("#won").expect("the won list");
    card.drag_to(&won_list).expect("dragging the card");

    let log = browser.find("#log").and_then(|log| log.text()).expect("log");
    let moves: u32 = log.rsplit(" after ").next().and_then(|rest| rest.trim_end_matches(" moves").parse().ok()).unwrap_or(0);
    assert!(log.starts_with("dropped card-1 on won after ") && moves >= 10, "{log}");
    let won_cards: Vec<String> = browser
        .find_all("#won li")
        .expect("won cards")
        .iter()
        .map(|card| card.attribute("id").expect("card id").unwrap_or_default())
        .collect();
    assert_eq!(won_cards, ["card-3", "card-1"]);
    assert_eq!(browser.find_all("#open li").expect("open cards").len(), 1);
}

#[test]
fn start_with_language_makes_the_browser_korean() {
    let Some(browser) = Browser::start_with_language("ko") else { return };
    let site = start_test_site();
    browser.goto(&format!("{site}/language")).expect("the language page loads");
    assert_eq!(language_report(&browser), "navigator.language=ko accept-language=ko");
}

/// What the language page shows: `navigator.language` in the browser, and the `Accept-Language` header the server saw.
fn language_report(browser: &Browser) -> String {
    browser.wait_for("#report", Duration::from_secs(5)).and_then(|report| report.text()).expect("the language report")
}

/// Starts the test site on a free loopback port and returns its base URL; it serves until the test process exits.
fn start_test_site() -> String {
    let listener = TcpListener::bind("127.0.0.1:0").expect("a loopback port is free");
    let port = listener.local_addr().expect("the bound address").port();
    std::thread::spawn(move || {
        for connection in listener.incoming().flatten() {
            // Chromium opens several connections, some of them speculatively, so each gets a thread of its own.
            std::thread::spawn(move || serve_test_site_request(connection));
        }
    });
    format!("http://127.0.0.1:{port}")
}

fn serve_test_site_request(mut connection: TcpStream) {
    let _ = connection.set_read_timeout(Some(Duration::from_secs(5)));
    let Ok(reader_stream) = connection.try_clone() else { return };
    let mut reader = BufReader::new(reader_stream);
    let mut request_line = String::new();
    if reader.read_line(&mut request_line).unwrap_or(0) == 0 {
        return;
    }
    let mut accept_language = String::from("(none)");
    loop {
        let mut header_line = String::new();
        if reader.read_line(&mut header_line).unwrap_or(0) == 0 || header_line.trim().is_empty() {
            break;
        }
        if let Some((name, value)) = header_line.split_once(':')
            && name.eq_ignore_ascii_case("accept-language")
        {
            accept_language = value.trim().to_owned();
        }
    }
    let path = request_line.split_whitespace().nth(1).unwrap_or("/");
    let (status, body) = match path {
        "/form" => ("200 OK", FORM_PAGE.to_owned()),
        "/drag" => ("200 OK", DRAG_PAGE.to_owned()),
        "/language" => ("200 OK", language_page(&accept_language)),
        _ => ("404 Not Found", "not found".to_owned()),
    };
    let response = format!(
        "HTTP/1.1 {status}\r\nContent-Type: text/html; charset=utf-8\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    let _ = connection.write_all(response.as_bytes());
}

fn language_page(accept_language: &str) -> String {
    let escaped_accept_language = accept_language.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;");
    format!(
        r#"<!doctype html><html><head><meta charset="utf-8"><title>Language</title></head><body>
<p id="header">{escaped_accept_language}</p>
<script>
  const report = document.createElement('p');
  report.id = 'report';
  report.textContent = 'navigator.language=' + navigator.language + ' accept-language=' + document.getElementById('header').textContent;
  document.body.appendChild(report);
</script></body></html>"#
    )
}
