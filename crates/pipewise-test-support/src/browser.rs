//! A small W3C WebDriver client for end-to-end tests in real headless Chromium.
//!
//! [`Browser::start`] runs `chromedriver` on a free loopback port and, through it, one headless `chromium` with a fresh profile in a temp directory.
//! Dropping the [`Browser`] ends the session, kills chromedriver and every browser process it started, and removes the profile.
//! A watchdog shell in the same process group kills them too when the test process dies without dropping the [`Browser`].
//!
//! The WebDriver JSON calls go over a minimal HTTP/1.1 client on [`std::net::TcpStream`], one connection per request, so this crate needs no HTTP dependency.
//! [`Element`] wraps a WebDriver element reference.
//! [`Element::drag_to`] and [`Browser::press_keys`] send W3C Actions, which pages receive as trusted pointer and keyboard events.
//! [`screenshot_dir`] is where tests put their screenshots: `<workspace target dir>/screenshots`.
//!
//! Every call returns `Result<_, String>`; the error names the WebDriver command and carries WebDriver's error code and message.

use std::io::{BufRead, BufReader, Write};
use std::net::{Ipv4Addr, SocketAddr, TcpStream};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::TempDir;

/// The key under which W3C WebDriver puts an element reference in JSON.
const ELEMENT_REFERENCE_KEY: &str = "element-6066-11e4-a52e-4f735466cecf";

/// How long one WebDriver command may take; page loads and scripts time out earlier, inside the browser.
const COMMAND_TIMEOUT: Duration = Duration::from_secs(60);

/// How long chromedriver may take to answer `/status` with `ready: true` after it is spawned.
const DRIVER_READY_TIMEOUT: Duration = Duration::from_secs(15);

/// The page-load and script timeouts given to the session, in milliseconds.
const PAGE_LOAD_TIMEOUT_MILLISECONDS: u64 = 30_000;
const SCRIPT_TIMEOUT_MILLISECONDS: u64 = 30_000;

/// How often [`Browser::wait_for`] looks again.
const WAIT_FOR_POLL_INTERVAL: Duration = Duration::from_millis(50);

/// WebDriver key codes for [`Browser::press_keys`] and [`Element::send_keys`].
///
/// In `press_keys`, a modifier (Shift, Control, Alt, Meta) stays pressed until the end of its string, so `[keys::SHIFT, keys::TAB].concat()` is Shift+Tab.
pub mod keys {
    pub const BACKSPACE: &str = "\u{E003}";
    pub const TAB: &str = "\u{E004}";
    pub const RETURN: &str = "\u{E006}";
    pub const ENTER: &str = "\u{E007}";
    pub const SHIFT: &str = "\u{E008}";
    pub const CONTROL: &str = "\u{E009}";
    pub const ALT: &str = "\u{E00A}";
    pub const ESCAPE: &str = "\u{E00C}";
    pub const SPACE: &str = "\u{E00D}";
    pub const PAGE_UP: &str = "\u{E00E}";
    pub const PAGE_DOWN: &str = "\u{E00F}";
    pub const END: &str = "\u{E010}";
    pub const HOME: &str = "\u{E011}";
    pub const ARROW_LEFT: &str = "\u{E012}";
    pub const ARROW_UP: &str = "\u{E013}";
    pub const ARROW_RIGHT: &str = "\u{E014}";
    pub const ARROW_DOWN: &str = "\u{E015}";
    pub const DELETE: &str = "\u{E017}";
    pub const META: &str = "\u{E03D}";

    /// Whether `key` is a modifier key, left or right, which `press_keys` holds down rather than presses and releases.
    pub(crate) fn is_modifier(key: char) -> bool {
        matches!(key, '\u{E008}'..='\u{E00A}' | '\u{E03D}' | '\u{E050}'..='\u{E053}')
    }
}

/// The directory for test screenshots, `<workspace target dir>/screenshots`, created if missing.
///
/// The target directory is `CARGO_TARGET_DIR` when set (a relative one is taken from the workspace root), else `target/` in the workspace root.
/// The workspace root is the nearest ancestor of `CARGO_MANIFEST_DIR` whose `Cargo.toml` has a `[workspace]` table.
pub fn screenshot_dir() -> PathBuf {
    let directory = workspace_target_dir().join("screenshots");
    if let Err(error) = std::fs::create_dir_all(&directory) {
        panic!("cannot create the screenshot directory {}: {error}", directory.display());
    }
    directory
}

fn workspace_target_dir() -> PathBuf {
    let workspace_root = workspace_root();
    match std::env::var_os("CARGO_TARGET_DIR").filter(|value| !value.is_empty()) {
        Some(target_dir) => workspace_root.join(target_dir),
        None => workspace_root.join("target"),
    }
}

fn workspace_root() -> PathBuf {
    // Cargo sets `CARGO_MANIFEST_DIR` when it runs a test; the compile-time value covers running a test binary by hand.
    let manifest_dir = std::env::var_os("CARGO_MANIFEST_DIR").map_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")), PathBuf::from);
    let is_workspace_manifest = |directory: &Path| {
        std::fs::read_to_string(directory.join("Cargo.toml"))
            .is_ok_and(|manifest| manifest.lines().any(|line| line.trim() == "[workspace]"))
    };
    manifest_dir.ancestors().find(|directory| is_workspace_manifest(directory)).unwrap_or(&manifest_dir).to_path_buf()
}

/// One headless Chromium driven through its own chromedriver.
pub struct Browser {
    session_id: String,
    driver: DriverProcess,
    // Declared last so that it is removed after chromedriver and the browser are gone.
    profile_dir: TempDir,
}

impl std::fmt::Debug for Browser {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("Browser")
            .field("session_id", &self.session_id)
            .field("chromedriver_port", &self.driver.port)
            .field("profile_dir", &self.profile_dir.path())
            .finish()
    }
}

/// One cookie as WebDriver reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cookie {
    pub name: String,
    pub value: String,
    pub domain: Option<String>,
    pub path: Option<String>,
    pub secure: bool,
    pub http_only: bool,
    pub same_site: Option<String>,
    /// Seconds since the Unix epoch; `None` for a session cookie.
    pub expiry: Option<u64>,
}

impl Browser {
    /// Starts headless Chromium in US English: `navigator.language` is `en-US`, and requests carry `Accept-Language: en-US,en;q=0.9`.
    ///
    /// Returns `None` after a loud skip when `chromedriver` or `chromium` is not installed (a panic under `CI`).
    /// Panics with chromedriver's error when they are installed but the browser does not start.
    pub fn start() -> Option<Browser> {
        Browser::start_with_language("en-US")
    }

    /// Starts headless Chromium with `language` (a BCP 47 tag such as `ko`) as its UI language, `navigator.language` and `Accept-Language`.
    ///
    /// Chromium may add the base language to the header: `ko` is sent as `ko`, `en-US` as `en-US,en;q=0.9`.
    ///
    /// Skips and panics like [`Browser::start`].
    pub fn start_with_language(language: &str) -> Option<Browser> {
        let Some(programs) = BrowserPrograms::find() else {
            crate::skip_or_fail(
                "headless Chromium (`chromedriver` and `chromium`; install with `apt-get install chromium chromium-driver`)",
            );
            return None;
        };
        match Browser::launch(&programs, language) {
            Ok(browser) => Some(browser),
            Err(error) => panic!("headless Chromium did not start: {error}"),
        }
    }

    fn launch(programs: &BrowserPrograms, language: &str) -> Result<Browser, String> {
        let profile_dir = TempDir::new("chromium");
        let user_data_dir = profile_dir.path().join("profile");
        let driver = DriverProcess::start(&programs.chromedriver, profile_dir.path())?;
        let chromium_arguments = [
            "--headless=new".to_owned(),
            "--no-sandbox".to_owned(),
            "--disable-gpu".to_owned(),
            "--disable-dev-shm-usage".to_owned(),
            "--disable-background-networking".to_owned(),
            "--disable-component-update".to_owned(),
            "--disable-sync".to_owned(),
            "--disable-quic".to_owned(),
            "--no-first-run".to_owned(),
            "--window-size=1400,900".to_owned(),
            format!("--user-data-dir={}", user_data_dir.display()),
            format!("--lang={language}"),
        ];
        let new_session = json!({
            "capabilities": {
                "alwaysMatch": {
                    "browserName": "chrome",
                    "pageLoadStrategy": "normal",
                    "timeouts": { "implicit": 0, "pageLoad": PAGE_LOAD_TIMEOUT_MILLISECONDS, "script": SCRIPT_TIMEOUT_MILLISECONDS },
                    "goog:chromeOptions": {
                        "binary": programs.chromium.display().to_string(),
                        "args": chromium_arguments,
                        "prefs": {
                            "intl.accept_languages": language,
                            // Open the first tab on about:blank. Debian's Chromium would otherwise load its default search engine's new-tab
                            // page there, and without internet that navigation holds up the first `goto` for about 5 s.
                            "session.restore_on_startup": 4,
                            "session.startup_urls": ["about:blank"],
                        },
                    },
                }
            }
        });
        let session = webdriver_request(driver.port, "POST", "/session", Some(&new_session), COMMAND_TIMEOUT).map_err(|error| {
            format!("chromedriver could not create a session with {}: {error}{}", programs.chromium.display(), driver.log_tail())
        })?;
        let session_id = session
            .get("sessionId")
            .and_then(Value::as_str)
            .ok_or_else(|| format!("chromedriver's new session has no `sessionId`: {session}"))?
            .to_owned();
        Ok(Browser { session_id, driver, profile_dir })
    }

    /// Runs one WebDriver command of this session; `command_path` follows `/session/{id}`.
    fn command(&self, method: &str, command_path: &str, body: Option<Value>) -> Result<Value, String> {
        let path = format!("/session/{}{command_path}", self.session_id);
        // W3C WebDriver wants a JSON object as the body of every POST, even one without parameters.
        let body = match (method, body) {
            ("POST", None) => Some(json!({})),
            (_, body) => body,
        };
        webdriver_request(self.driver.port, method, &path, body.as_ref(), COMMAND_TIMEOUT)
            .map_err(|error| format!("WebDriver {method} {command_path}: {error}"))
    }

    fn string_command(&self, command_path: &str) -> Result<String, String> {
        let value = self.command("GET", command_path, None)?;
        value.as_str().map(str::to_owned).ok_or_else(|| format!("WebDriver GET {command_path}: expected a string, got {value}"))
    }

    /// Navigates to `url` and waits for the page to load.
    pub fn goto(&self, url: &str) -> Result<(), String> {
        self.command("POST", "/url", Some(json!({ "url": url }))).map(drop).map_err(|error| format!("{error} (navigating to {url})"))
    }

    /// Reloads the current page and waits for it to load.
    pub fn refresh(&self) -> Result<(), String> {
        self.command("POST", "/refresh", None).map(drop)
    }

    pub fn current_url(&self) -> Result<String, String> {
        self.string_command("/url")
    }

    pub fn title(&self) -> Result<String, String> {
        self.string_command("/title")
    }

    /// The current DOM serialised as HTML (not the bytes the server sent).
    pub fn page_source(&self) -> Result<String, String> {
        self.string_command("/source")
    }

    /// The first element matching the CSS selector `css`; an error if none does.
    pub fn find(&self, css: &str) -> Result<Element<'_>, String> {
        let value = self.command("POST", "/element", Some(json!({ "using": "css selector", "value": css })))?;
        Ok(Element { browser: self, element_id: element_id_from_reference(&value)? })
    }

    /// Every element matching the CSS selector `css`, in document order; empty if none does.
    pub fn find_all(&self, css: &str) -> Result<Vec<Element<'_>>, String> {
        let value = self.command("POST", "/elements", Some(json!({ "using": "css selector", "value": css })))?;
        let references = value.as_array().ok_or_else(|| format!("WebDriver POST /elements: expected an array, got {value}"))?;
        references.iter().map(|reference| Ok(Element { browser: self, element_id: element_id_from_reference(reference)? })).collect()
    }

    /// Polls until an element matches `css` and returns the first; an error naming the selector and page after `timeout`.
    pub fn wait_for(&self, css: &str, timeout: Duration) -> Result<Element<'_>, String> {
        let started = Instant::now();
        loop {
            if let Some(element) = self.find_all(css)?.into_iter().next() {
                return Ok(element);
            }
            if started.elapsed() >= timeout {
                let url = self.current_url().unwrap_or_else(|error| format!("<unknown page: {error}>"));
                return Err(format!("no element matched `{css}` within {timeout:?} on {url}"));
            }
            std::thread::sleep(WAIT_FOR_POLL_INTERVAL);
        }
    }

    /// Runs `script` as the body of a function with `arguments` = `args` and returns what it returns.
    ///
    /// Pass elements with [`Element::to_script_argument`]; a returned element comes back as a JSON element reference.
    pub fn execute(&self, script: &str, args: &[Value]) -> Result<Value, String> {
        self.command("POST", "/execute/sync", Some(json!({ "script": script, "args": args })))
    }

    /// Saves a PNG screenshot of the viewport to `path`, creating its directory.
    pub fn screenshot(&self, path: impl AsRef<Path>) -> Result<(), String> {
        let path = path.as_ref();
        let value = self.command("GET", "/screenshot", None)?;
        let encoded = value.as_str().ok_or_else(|| format!("WebDriver GET /screenshot: expected base64 text, got {value}"))?;
        let png = decode_base64(encoded).map_err(|error| format!("WebDriver GET /screenshot: {error}"))?;
        if let Some(directory) = path.parent() {
            std::fs::create_dir_all(directory).map_err(|error| format!("cannot create {}: {error}", directory.display()))?;
        }
        std::fs::write(path, png).map_err(|error| format!("cannot write the screenshot {}: {error}", path.display()))
    }

    /// The cookies visible to the current page.
    pub fn cookies(&self) -> Result<Vec<Cookie>, String> {
        let value = self.command("GET", "/cookie", None)?;
        let cookies = value.as_array().ok_or_else(|| format!("WebDriver GET /cookie: expected an array, got {value}"))?;
        cookies.iter().map(cookie_from_json).collect()
    }

    /// Deletes every cookie visible to the current page.
    pub fn delete_cookies(&self) -> Result<(), String> {
        self.command("DELETE", "/cookie", None).map(drop)
    }

    /// Resizes the browser window (outer size, in CSS pixels).
    pub fn set_window_size(&self, width: u32, height: u32) -> Result<(), String> {
        self.command("POST", "/window/rect", Some(json!({ "width": width, "height": height }))).map(drop)
    }

    /// Types into whatever has focus with real key events, one string after another.
    ///
    /// Each character of a string is pressed and released, except modifiers (see [`keys`]), which stay down until the end of their string.
    /// So `&[keys::TAB, "42", keys::ENTER]` tabs, types 42 and presses Enter, and `&[&[keys::SHIFT, keys::TAB].concat()]` is Shift+Tab.
    pub fn press_keys(&self, key_strings: &[&str]) -> Result<(), String> {
        let mut key_actions = Vec::new();
        for key_string in key_strings {
            let mut held_modifiers = Vec::new();
            for key in key_string.chars() {
                key_actions.push(json!({ "type": "keyDown", "value": key.to_string() }));
                if keys::is_modifier(key) {
                    held_modifiers.push(key);
                } else {
                    key_actions.push(json!({ "type": "keyUp", "value": key.to_string() }));
                }
            }
            for modifier in held_modifiers.into_iter().rev() {
                key_actions.push(json!({ "type": "keyUp", "value": modifier.to_string() }));
            }
        }
        if key_actions.is_empty() {
            return Ok(());
        }
        self.perform_actions(json!([{ "type": "key", "id": "pipewise-keyboard", "actions": key_actions }]))
    }

    /// Performs W3C input action sequences, then releases every key and button they left pressed.
    fn perform_actions(&self, sequences: Value) -> Result<(), String> {
        let performed = self.command("POST", "/actions", Some(json!({ "actions": sequences }))).map(drop);
        let released = self.command("DELETE", "/actions", None).map(drop);
        performed.and(released)
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        // Ending the session makes chromedriver quit Chromium cleanly; the driver's own drop then kills whatever is left.
        let path = format!("/session/{}", self.session_id);
        if let Err(error) = webdriver_request(self.driver.port, "DELETE", &path, None, Duration::from_secs(10)) {
            eprintln!("pipewise_test_support::browser: ending the WebDriver session failed ({error}); killing chromedriver");
        }
    }
}

/// An element of the page the [`Browser`] showed when it was found.
pub struct Element<'browser> {
    browser: &'browser Browser,
    element_id: String,
}

impl std::fmt::Debug for Element<'_> {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter.debug_struct("Element").field("element_id", &self.element_id).finish()
    }
}

impl Element<'_> {
    fn command(&self, method: &str, element_command: &str, body: Option<Value>) -> Result<Value, String> {
        self.browser.command(method, &format!("/element/{}{element_command}", self.element_id), body)
    }

    /// This element as an argument for [`Browser::execute`], where the script sees the DOM element.
    pub fn to_script_argument(&self) -> Value {
        json!({ ELEMENT_REFERENCE_KEY: self.element_id })
    }

    /// Scrolls the element into view and clicks its centre.
    pub fn click(&self) -> Result<(), String> {
        self.command("POST", "/click", None).map(drop)
    }

    /// The rendered text, as a user would see it (`innerText`-like).
    pub fn text(&self) -> Result<String, String> {
        let value = self.command("GET", "/text", None)?;
        value.as_str().map(str::to_owned).ok_or_else(|| format!("WebDriver GET /element/…/text: expected a string, got {value}"))
    }

    /// The HTML attribute `name`; `None` when the element does not have it.
    pub fn attribute(&self, name: &str) -> Result<Option<String>, String> {
        match self.command("GET", &format!("/attribute/{name}"), None)? {
            Value::Null => Ok(None),
            Value::String(text) => Ok(Some(text)),
            other => Err(format!("WebDriver GET /element/…/attribute/{name}: expected a string or null, got {other}")),
        }
    }

    /// The DOM property `name` (for example `value` or `checked`), as JSON; `null` when it is undefined.
    pub fn property(&self, name: &str) -> Result<Value, String> {
        self.command("GET", &format!("/property/{name}"), None)
    }

    /// Focuses the element and types `text`; the [`keys`] codes work here too.
    pub fn send_keys(&self, text: &str) -> Result<(), String> {
        self.command("POST", "/value", Some(json!({ "text": text }))).map(drop)
    }

    /// Empties an input, a textarea or a content-editable element.
    pub fn clear(&self) -> Result<(), String> {
        self.command("POST", "/clear", None).map(drop)
    }

    /// Whether a user could see the element: rendered, not `display: none` or `visibility: hidden`, and of non-zero size.
    pub fn is_displayed(&self) -> Result<bool, String> {
        let value = self.command("GET", "/displayed", None)?;
        value.as_bool().ok_or_else(|| format!("WebDriver GET /element/…/displayed: expected a boolean, got {value}"))
    }

    /// The centre of the element's bounding box, in CSS pixels from the top left of the document, rounded down.
    fn centre(&self) -> Result<(i64, i64), String> {
        let rect = self.command("GET", "/rect", None)?;
        let number = |field: &str| {
            rect.get(field).and_then(Value::as_f64).ok_or_else(|| format!("WebDriver GET /element/…/rect: no number `{field}` in {rect}"))
        };
        let centre_x = number("x")? + number("width")? / 2.0;
        let centre_y = number("y")? + number("height")? / 2.0;
        Ok((centre_x.floor() as i64, centre_y.floor() as i64))
    }

    /// Drags this element onto the centre of `target` with a real mouse: press, a few small moves, steps along the line to the target, a nudge, release.
    ///
    /// The small moves pass the few-pixel threshold after which drag libraries such as SortableJS start a drag.
    /// The steps in between make the page see the pointer travel, as it would under a hand, rather than jump.
    /// The source is scrolled into view first; the target must then be in the viewport too.
    pub fn drag_to(&self, target: &Element<'_>) -> Result<(), String> {
        const N_SMALL_MOVES: i64 = 4;
        const SMALL_MOVE_PIXELS: i64 = 3;
        const N_TRAVEL_STEPS: i64 = 10;
        self.browser.execute("arguments[0].scrollIntoView({ block: 'nearest', inline: 'nearest' });", &[self.to_script_argument()])?;
        let (source_x, source_y) = self.centre()?;
        let (target_x, target_y) = target.centre()?;
        // Offsets from the target's centre; every step lies between two points in the viewport, so it is in the viewport too.
        let (start_x, start_y) =
            (source_x - target_x + N_SMALL_MOVES * SMALL_MOVE_PIXELS, source_y - target_y + N_SMALL_MOVES * SMALL_MOVE_PIXELS);
        let mut pointer_actions = vec![
            json!({ "type": "pointerMove", "duration": 0, "origin": self.to_script_argument(), "x": 0, "y": 0 }),
            json!({ "type": "pointerDown", "button": 0 }),
            json!({ "type": "pause", "duration": 50 }),
        ];
        for _ in 0..N_SMALL_MOVES {
            pointer_actions.push(
                json!({ "type": "pointerMove", "duration": 20, "origin": "pointer", "x": SMALL_MOVE_PIXELS, "y": SMALL_MOVE_PIXELS }),
            );
        }
        for step in 1..=N_TRAVEL_STEPS {
            let remaining = N_TRAVEL_STEPS - step;
            pointer_actions.push(json!({
                "type": "pointerMove",
                "duration": 20,
                "origin": target.to_script_argument(),
                "x": start_x * remaining / N_TRAVEL_STEPS,
                "y": start_y * remaining / N_TRAVEL_STEPS,
            }));
        }
        pointer_actions.extend([
            // A last small move over the target lets libraries that pick the drop position on `pointermove` see the pointer settled there.
            json!({ "type": "pointerMove", "duration": 20, "origin": "pointer", "x": 1, "y": 1 }),
            json!({ "type": "pause", "duration": 50 }),
            json!({ "type": "pointerUp", "button": 0 }),
        ]);
        self.browser.perform_actions(json!([{
            "type": "pointer",
            "id": "pipewise-mouse",
            "parameters": { "pointerType": "mouse" },
            "actions": pointer_actions,
        }]))
    }
}

fn element_id_from_reference(value: &Value) -> Result<String, String> {
    value
        .get(ELEMENT_REFERENCE_KEY)
        .and_then(Value::as_str)
        .map(str::to_owned)
        .ok_or_else(|| format!("expected a WebDriver element reference, got {value}"))
}

fn cookie_from_json(value: &Value) -> Result<Cookie, String> {
    let text = |field: &str| value.get(field).and_then(Value::as_str).map(str::to_owned);
    let flag = |field: &str| value.get(field).and_then(Value::as_bool).unwrap_or(false);
    Ok(Cookie {
        name: text("name").ok_or_else(|| format!("a WebDriver cookie without a name: {value}"))?,
        value: text("value").ok_or_else(|| format!("a WebDriver cookie without a value: {value}"))?,
        domain: text("domain"),
        path: text("path"),
        secure: flag("secure"),
        http_only: flag("httpOnly"),
        same_site: text("sameSite"),
        expiry: value.get("expiry").and_then(Value::as_u64),
    })
}

/// Where `chromedriver` and `chromium` are installed.
struct BrowserPrograms {
    chromedriver: PathBuf,
    chromium: PathBuf,
}

impl BrowserPrograms {
    fn find() -> Option<BrowserPrograms> {
        let find_first = |names: &[&str]| {
            names.iter().find_map(|name| crate::find_program(name).or_else(|| crate::find_program(&format!("/usr/bin/{name}"))))
        };
        Some(BrowserPrograms { chromedriver: find_first(&["chromedriver"])?, chromium: find_first(&["chromium", "chromium-browser"])? })
    }
}

/// A running chromedriver, leader of its own process group, which also holds the browsers it launches and a watchdog.
struct DriverProcess {
    child: Child,
    watchdog: Option<Child>,
    port: u16,
    log_path: PathBuf,
}

impl DriverProcess {
    /// Spawns chromedriver on a free loopback port and waits until it is ready; retries with another port if the first is taken meanwhile.
    /// chromedriver logs to `chromedriver.log` in `working_dir`, which the watchdog removes if this test process dies.
    fn start(chromedriver: &Path, working_dir: &Path) -> Result<DriverProcess, String> {
        let mut attempts_left = 3;
        loop {
            attempts_left -= 1;
            match DriverProcess::start_once(chromedriver, working_dir) {
                Ok(driver) => return Ok(driver),
                Err(StartFailure::ExitedEarly(message)) if attempts_left > 0 => eprintln!("{message}; trying another port"),
                Err(StartFailure::ExitedEarly(message) | StartFailure::Other(message)) => return Err(message),
            }
        }
    }

    fn start_once(chromedriver: &Path, working_dir: &Path) -> Result<DriverProcess, StartFailure> {
        let port = free_loopback_port().map_err(StartFailure::Other)?;
        let log_path = working_dir.join("chromedriver.log");
        let mut command = Command::new(chromedriver);
        command
            .arg(format!("--port={port}"))
            .arg(format!("--log-path={}", log_path.display()))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .process_group(0);
        let child = command.spawn().map_err(|error| StartFailure::Other(format!("cannot run {}: {error}", chromedriver.display())))?;
        let mut driver = DriverProcess { child, watchdog: None, port, log_path };
        driver.watchdog = driver.spawn_watchdog(working_dir);
        let started = Instant::now();
        loop {
            if let Ok(Some(status)) = driver.child.try_wait() {
                return Err(StartFailure::ExitedEarly(format!(
                    "chromedriver on port {port} exited at start ({status}){}",
                    driver.log_tail()
                )));
            }
            let status = webdriver_request(port, "GET", "/status", None, Duration::from_secs(2));
            if status.as_ref().is_ok_and(|status| status.get("ready").and_then(Value::as_bool) == Some(true)) {
                return Ok(driver);
            }
            if started.elapsed() >= DRIVER_READY_TIMEOUT {
                let last_answer = match status {
                    Ok(status) => format!("it answered {status}"),
                    Err(error) => error,
                };
                return Err(StartFailure::Other(format!(
                    "chromedriver on port {port} was not ready within {DRIVER_READY_TIMEOUT:?}: {last_answer}{}",
                    driver.log_tail()
                )));
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// A shell in chromedriver's process group that kills the whole group, and removes `working_dir`, once this test process is gone.
    /// It covers a test process that is killed or aborts without running destructors.
    fn spawn_watchdog(&self, working_dir: &Path) -> Option<Child> {
        // The cleanup runs in a session of its own so that it outlives the group it kills; the forked `setsid` parent stays in the
        // group until then, so the group id cannot have been reused.
        let script = r#"while kill -0 "$1" 2>/dev/null; do sleep 0.5; done
exec setsid --fork --wait sh -c 'kill -s KILL -- "-$1"; sleep 0.5; rm -rf "$2"' sh "$2" "$3""#;
        let mut command = Command::new("sh");
        command
            .args(["-c", script, "sh", &std::process::id().to_string(), &self.process_group_id().to_string()])
            .arg(working_dir)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .process_group(self.process_group_id());
        match command.spawn() {
            Ok(watchdog) => Some(watchdog),
            Err(error) => {
                eprintln!("pipewise_test_support::browser: no watchdog for chromedriver ({error}); it may outlive a killed test");
                None
            }
        }
    }

    fn process_group_id(&self) -> i32 {
        // Process ids fit in an i32 on Linux, where `pid_max` is at most 2^22.
        i32::try_from(self.child.id()).unwrap_or(i32::MAX)
    }

    /// The end of chromedriver's log, for error messages.
    fn log_tail(&self) -> String {
        let Ok(log) = std::fs::read_to_string(&self.log_path) else {
            return String::new();
        };
        let lines: Vec<&str> = log.lines().collect();
        let tail = lines[lines.len().saturating_sub(15)..].join("\n");
        format!("\nlast lines of {}:\n{tail}", self.log_path.display())
    }
}

impl Drop for DriverProcess {
    fn drop(&mut self) {
        // chromedriver has not been reaped yet, so its process group id still names only the group it leads: chromedriver,
        // the browser processes it launched, and the watchdog.
        let _ = Command::new("kill")
            .args(["-KILL", "--", &format!("-{}", self.process_group_id())])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
        let _ = self.child.kill();
        let _ = self.child.wait();
        if let Some(watchdog) = &mut self.watchdog {
            let _ = watchdog.kill();
            let _ = watchdog.wait();
        }
    }
}

enum StartFailure {
    /// chromedriver exited before it was ready, most likely because another process took the port.
    ExitedEarly(String),
    Other(String),
}

fn free_loopback_port() -> Result<u16, String> {
    let listener =
        std::net::TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).map_err(|error| format!("cannot bind a loopback port: {error}"))?;
    listener.local_addr().map(|address| address.port()).map_err(|error| format!("cannot read the bound loopback port: {error}"))
}

/// Sends one WebDriver request to chromedriver on loopback `port` and returns the `value` of its JSON answer.
/// A WebDriver error becomes `Err("<error code>: <message>")`.
fn webdriver_request(port: u16, method: &str, path: &str, body: Option<&Value>, read_timeout: Duration) -> Result<Value, String> {
    let body_bytes = body.map(Value::to_string);
    let response = http_request(port, method, path, body_bytes.as_deref(), read_timeout)?;
    let mut answer: Value = serde_json::from_slice(&response.body).map_err(|error| {
        let start_of_body = String::from_utf8_lossy(&response.body[..response.body.len().min(300)]).into_owned();
        format!("HTTP {} with a body that is not JSON ({error}): {start_of_body}", response.status)
    })?;
    let value = answer.get_mut("value").map(Value::take).unwrap_or(Value::Null);
    if let Some(error_code) = value.get("error").and_then(Value::as_str) {
        // The message often spans lines ("... \n  (Session info: chrome=...)"); the stack trace is of chromedriver's own code and is left out.
        let message = value.get("message").and_then(Value::as_str).unwrap_or("").split_whitespace().collect::<Vec<_>>().join(" ");
        return Err(format!("{error_code}: {message}"));
    }
    if response.status != 200 {
        return Err(format!("HTTP {} without a WebDriver error: {value}", response.status));
    }
    Ok(value)
}

struct HttpResponse {
    status: u16,
    body: Vec<u8>,
}

/// A minimal HTTP/1.1 exchange with a server on loopback `port`: one request with `Connection: close`, one response.
fn http_request(port: u16, method: &str, path: &str, json_body: Option<&str>, read_timeout: Duration) -> Result<HttpResponse, String> {
    let address = SocketAddr::from((Ipv4Addr::LOCALHOST, port));
    let describe = |what: &str, error: std::io::Error| format!("{what} {method} {path} to chromedriver on {address}: {error}");
    let mut stream = TcpStream::connect_timeout(&address, Duration::from_secs(5)).map_err(|error| describe("cannot connect for", error))?;
    stream.set_read_timeout(Some(read_timeout)).map_err(|error| describe("cannot set a read timeout for", error))?;
    stream.set_write_timeout(Some(Duration::from_secs(10))).map_err(|error| describe("cannot set a write timeout for", error))?;
    let mut request = format!("{method} {path} HTTP/1.1\r\nHost: {address}\r\nConnection: close\r\nAccept: application/json\r\n");
    if let Some(body) = json_body {
        request.push_str(&format!("Content-Type: application/json; charset=utf-8\r\nContent-Length: {}\r\n\r\n{body}", body.len()));
    } else {
        request.push_str("\r\n");
    }
    stream.write_all(request.as_bytes()).map_err(|error| describe("cannot send", error))?;
    read_http_response(&mut BufReader::new(stream))
        .map_err(|error| format!("reading the answer to {method} {path} from chromedriver on {address}: {error}"))
}

/// Reads one HTTP/1.1 response: the status line, the headers, then a body framed by `Content-Length`, by chunks, or by the end of the connection.
fn read_http_response(reader: &mut impl BufRead) -> Result<HttpResponse, String> {
    let status_line = read_http_line(reader)?;
    let mut status_parts = status_line.split_whitespace();
    let status = match (status_parts.next(), status_parts.next()) {
        (Some(version), Some(code)) if version.starts_with("HTTP/") => {
            code.parse::<u16>().map_err(|_| format!("bad status code in `{status_line}`"))?
        }
        _ => return Err(format!("not an HTTP status line: `{status_line}`")),
    };
    let mut content_length = None;
    let mut chunked = false;
    loop {
        let header_line = read_http_line(reader)?;
        if header_line.is_empty() {
            break;
        }
        let Some((name, value)) = header_line.split_once(':') else {
            return Err(format!("bad header line `{header_line}`"));
        };
        let value = value.trim();
        if name.eq_ignore_ascii_case("content-length") {
            content_length = Some(value.parse::<usize>().map_err(|_| format!("bad Content-Length `{value}`"))?);
        } else if name.eq_ignore_ascii_case("transfer-encoding") {
            chunked = value.split(',').any(|coding| coding.trim().eq_ignore_ascii_case("chunked"));
        }
    }
    let mut body = Vec::new();
    if chunked {
        loop {
            let size_line = read_http_line(reader)?;
            let size_text = size_line.split(';').next().unwrap_or("").trim();
            let chunk_size = usize::from_str_radix(size_text, 16).map_err(|_| format!("bad chunk size line `{size_line}`"))?;
            if chunk_size == 0 {
                // Trailers, if any, end with an empty line, like the headers.
                while !read_http_line(reader)?.is_empty() {}
                break;
            }
            let start = body.len();
            body.resize(start + chunk_size, 0);
            reader.read_exact(&mut body[start..]).map_err(|error| format!("a chunk of {chunk_size} bytes was cut short: {error}"))?;
            if !read_http_line(reader)?.is_empty() {
                return Err("a chunk is not followed by CRLF".to_owned());
            }
        }
    } else if let Some(length) = content_length {
        body.resize(length, 0);
        reader.read_exact(&mut body).map_err(|error| format!("a body of {length} bytes was cut short: {error}"))?;
    } else {
        reader.read_to_end(&mut body).map_err(|error| format!("cannot read the body: {error}"))?;
    }
    Ok(HttpResponse { status, body })
}

/// One line of an HTTP head without its CRLF; an error at the end of the stream.
fn read_http_line(reader: &mut impl BufRead) -> Result<String, String> {
    let mut line = Vec::new();
    let n_bytes = reader.read_until(b'\n', &mut line).map_err(|error| format!("cannot read: {error}"))?;
    if n_bytes == 0 {
        return Err("the connection closed in the middle of the response".to_owned());
    }
    while line.last().is_some_and(|byte| *byte == b'\n' || *byte == b'\r') {
        line.pop();
    }
    String::from_utf8(line).map_err(|error| format!("a response line is not UTF-8: {error}"))
}

/// Decodes standard base64 (RFC 4648 alphabet, `=` padding optional, ASCII whitespace ignored).
fn decode_base64(text: &str) -> Result<Vec<u8>, String> {
    let mut decoded = Vec::with_capacity(text.len() / 4 * 3);
    let mut bit_buffer: u32 = 0;
    let mut n_buffered_bits = 0;
    let mut padding_seen = false;
    for (position, byte) in text.bytes().enumerate() {
        let sextet = match byte {
            b'A'..=b'Z' => byte - b'A',
            b'a'..=b'z' => byte - b'a' + 26,
            b'0'..=b'9' => byte - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            b'=' => {
                padding_seen = true;
                continue;
            }
            b' ' | b'\t' | b'\r' | b'\n' => continue,
            _ => return Err(format!("invalid base64: byte {byte:#04x} at position {position}")),
        };
        if padding_seen {
            return Err(format!("invalid base64: data after `=` padding at position {position}"));
        }
        bit_buffer = (bit_buffer << 6) | u32::from(sextet);
        n_buffered_bits += 6;
        if n_buffered_bits >= 8 {
            n_buffered_bits -= 8;
            decoded.push((bit_buffer >> n_buffered_bits) as u8);
            bit_buffer &= (1 << n_buffered_bits) - 1;
        }
    }
    // One character on its own after a group of four carries only six bits, not a whole byte.
    if n_buffered_bits >= 6 {
        return Err("invalid base64: the text ends with a lone character".to_owned());
    }
    Ok(decoded)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_decodes_the_rfc_4648_test_vectors() {
        let vectors =
            [("", ""), ("Zg==", "f"), ("Zm8=", "fo"), ("Zm9v", "foo"), ("Zm9vYg==", "foob"), ("Zm9vYmE=", "fooba"), ("Zm9vYmFy", "foobar")];
        for (encoded, expected) in vectors {
            assert_eq!(decode_base64(encoded), Ok(expected.as_bytes().to_vec()), "{encoded}");
        }
        // Unpadded and wrapped text decodes too; `+` and `/` are 62 and 63: 0b111110_111111 = 0xFB, 0xF0 (the last 4 bits are padding).
        assert_eq!(decode_base64("Zm9v\r\nYg"), Ok(b"foob".to_vec()));
        assert_eq!(decode_base64("+/8="), Ok(vec![0xFB, 0xFF]));
        assert!(decode_base64("Zm9vY").is_err_and(|error| error.contains("lone character")));
        assert!(decode_base64("Zg==Zg").is_err_and(|error| error.contains("after `=`")));
        assert!(decode_base64("Zm-v").is_err_and(|error| error.contains("0x2d at position 2")));
    }

    #[test]
    fn http_responses_are_read_by_length_by_chunks_and_to_the_end() {
        let by_length = "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Type: application/json\r\n\r\n{\"a\"}ignored";
        let response = read_http_response(&mut by_length.as_bytes());
        assert_eq!(response.map(|response| (response.status, response.body)), Ok((200, b"{\"a\"}".to_vec())));

        let chunked =
            "HTTP/1.1 404 Not Found\r\ntransfer-encoding: chunked\r\n\r\n4;ext=1\r\n{\"va\r\nA\r\nlue\":null}\r\n0\r\nX-Trailer: 1\r\n\r\n";
        let response = read_http_response(&mut chunked.as_bytes());
        assert_eq!(response.map(|response| (response.status, response.body)), Ok((404, b"{\"value\":null}".to_vec())));

        let to_the_end = "HTTP/1.0 500 Internal Server Error\r\n\r\nno length";
        let response = read_http_response(&mut to_the_end.as_bytes());
        assert_eq!(response.map(|response| (response.status, response.body)), Ok((500, b"no length".to_vec())));

        let cut_short = "HTTP/1.1 200 OK\r\nContent-Length: 50\r\n\r\nshort";
        assert!(read_http_response(&mut cut_short.as_bytes()).is_err_and(|error| error.contains("50 bytes was cut short")));
    }
}
