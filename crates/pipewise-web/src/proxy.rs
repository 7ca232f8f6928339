//! The client address of a request, with or without reverse proxies in front.
//!
//! Without trusted proxies the client is the TCP peer.
//! With them (`pipewise serve --trusted-proxy 10.0.0.0/8`), a request whose peer is a trusted
//! proxy comes from the right-most address in `X-Forwarded-For` that is not itself a trusted
//! proxy: each proxy appends the address it received the request from, so the entries right of
//! that one were written by proxies we trust, while anything left of it may be made up by the
//! client.
//! Empty entries are skipped. An entry that is not an address stops the walk and the client is
//! the peer: a trusted hop wrote or passed on junk, so nothing left of it can be trusted. When
//! no entry qualifies (no header, or only trusted proxies in it), the client is the peer too.
//! The header is never read when the peer is not a trusted proxy, so a client cannot choose
//! the address it is throttled and recorded under.
//!
//! IPv4-mapped IPv6 addresses (`::ffff:10.0.0.1`, how a dual-stack listener reports an IPv4
//! peer) count as the IPv4 address, both as peers and in ranges.
//! Entries may carry a port (`203.0.113.7:4711`, `[2001:db8::7]:443`), which is dropped.
//! The `Forwarded` header (RFC 7239) is not read.

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::str::FromStr;
use std::sync::Arc;

use axum::http::HeaderMap;

/// The header each proxy appends its peer's address to.
pub const X_FORWARDED_FOR: &str = "x-forwarded-for";

/// A range of addresses: a network address and a prefix length (`10.0.0.0/8`, `fd00::/8`).
/// Parsed from a range or a single address (`10.0.0.7` is `10.0.0.7/32`, `::1` is `::1/128`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Cidr {
    network: IpAddr,
    prefix: u8,
}

impl Cidr {
    /// The range's first address (its host bits are zero).
    pub fn network(&self) -> IpAddr {
        self.network
    }

    /// The number of leading bits every address in the range shares with [`Cidr::network`].
    pub fn prefix(&self) -> u8 {
        self.prefix
    }

    pub fn contains(&self, address: IpAddr) -> bool {
        match (self.network, address.to_canonical()) {
            (IpAddr::V4(network), IpAddr::V4(address)) => mask_v4(address, self.prefix) == network,
            (IpAddr::V6(network), IpAddr::V6(address)) => mask_v6(address, self.prefix) == network,
            _ => false,
        }
    }
}

fn mask_v4(address: Ipv4Addr, prefix: u8) -> Ipv4Addr {
    let mask = u32::MAX.checked_shl(32 - u32::from(prefix)).unwrap_or(0);
    Ipv4Addr::from_bits(address.to_bits() & mask)
}

fn mask_v6(address: Ipv6Addr, prefix: u8) -> Ipv6Addr {
    let mask = u128::MAX.checked_shl(128 - u32::from(prefix)).unwrap_or(0);
    Ipv6Addr::from_bits(address.to_bits() & mask)
}

impl fmt::Display for Cidr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.network, self.prefix)
    }
}

/// A value that is neither an IP address nor a CIDR range, and why.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CidrError {
    pub value: String,
    pub reason: String,
}

impl fmt::Display for CidrError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?} is not an IP address or CIDR range: {}", self.value, self.reason)
    }
}

impl std::error::Error for CidrError {}

impl FromStr for Cidr {
    type Err = CidrError;

    /// `10.0.0.0/8`, `fd00::/8`, or a bare address meaning /32 or /128. Surrounding spaces are
    /// ignored. A range with bits set past its prefix (`10.1.2.3/8`) is refused as a likely
    /// typo; the message names the range meant.
    fn from_str(value: &str) -> Result<Cidr, CidrError> {
        let text = value.trim();
        let refuse = |reason: String| CidrError { value: text.to_owned(), reason };
        let (address, prefix) = match text.split_once('/') {
            Some((address, prefix)) => (address, Some(prefix)),
            None => (text, None),
        };
        let address: IpAddr = address
            .parse()
            .map_err(|_| refuse(format!("{address:?} is not an IPv4 or IPv6 address (write e.g. 10.0.0.0/8, 10.0.0.7 or fd00::/8)")))?;
        let max_prefix: u8 = if address.is_ipv4() { 32 } else { 128 };
        let prefix = match prefix {
            None => max_prefix,
            Some(digits) => digits
                .bytes()
                .all(|byte| byte.is_ascii_digit())
                .then(|| digits.parse::<u8>().ok())
                .flatten()
                .filter(|prefix| *prefix <= max_prefix)
                .ok_or_else(|| refuse(format!("the prefix length {digits:?} is not a number from 0 to {max_prefix}")))?,
        };
        let network = match address {
            IpAddr::V4(address) => IpAddr::V4(mask_v4(address, prefix)),
            IpAddr::V6(address) => IpAddr::V6(mask_v6(address, prefix)),
        };
        if network != address {
            return Err(refuse(format!("it has bits set past its /{prefix} prefix (the range is {network}/{prefix})")));
        }
        // An IPv4-mapped range is the IPv4 range, so that it matches peers either way.
        if let IpAddr::V6(v6) = network
            && let Some(v4) = v6.to_ipv4_mapped()
            && prefix >= 96
        {
            return Ok(Cidr { network: IpAddr::V4(v4), prefix: prefix - 96 });
        }
        Ok(Cidr { network, prefix })
    }
}

/// The reverse proxies whose `X-Forwarded-For` is believed. Empty by default: every request
/// comes from its TCP peer. Cheap to clone.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TrustedProxies(Arc<[Cidr]>);

impl TrustedProxies {
    pub fn new(ranges: impl IntoIterator<Item = Cidr>) -> TrustedProxies {
        TrustedProxies(ranges.into_iter().collect())
    }

    pub fn ranges(&self) -> &[Cidr] {
        &self.0
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Whether `address` is a trusted proxy.
    pub fn contains(&self, address: IpAddr) -> bool {
        self.0.iter().any(|range| range.contains(address))
    }

    /// The client of a request that came from `peer` with `headers`: the peer, unless it is a
    /// trusted proxy, in which case the right-most `X-Forwarded-For` entry that is not (see the
    /// module docs). Several `X-Forwarded-For` headers read as one list, in order.
    pub fn client_address(&self, peer: IpAddr, headers: &HeaderMap) -> IpAddr {
        let peer = peer.to_canonical();
        if !self.contains(peer) {
            return peer;
        }
        let entries: Vec<&[u8]> =
            headers.get_all(X_FORWARDED_FOR).iter().flat_map(|value| value.as_bytes().split(|byte| *byte == b',')).collect();
        for entry in entries.into_iter().rev() {
            if entry.iter().all(|byte| matches!(byte, b' ' | b'\t')) {
                continue;
            }
            // An entry that is not an address was written by a trusted hop (or passed on by
            // one): what lies left of it cannot be trusted, so the client is not known past the
            // peer.
            let Some(address) = forwarded_address(entry) else { return peer };
            if !self.contains(address) {
                return address;
            }
        }
        peer
    }
}

/// One `X-Forwarded-For` entry as an address: `203.0.113.7`, `2001:db8::7`, with or without a
/// port (`203.0.113.7:4711`, `[2001:db8::7]:443`). `None` when it is anything else.
fn forwarded_address(entry: &[u8]) -> Option<IpAddr> {
    let entry = std::str::from_utf8(entry).ok()?.trim_matches([' ', '\t']);
    let is_port = |port: &str| !port.is_empty() && port.bytes().all(|byte| byte.is_ascii_digit()) && port.parse::<u16>().is_ok();
    let address = if let Ok(address) = entry.parse::<IpAddr>() {
        address
    } else if let Some(bracketed) = entry.strip_prefix('[') {
        let (address, rest) = bracketed.split_once(']')?;
        if !(rest.is_empty() || rest.strip_prefix(':').is_some_and(is_port)) {
            return None;
        }
        IpAddr::V6(address.parse().ok()?)
    } else {
        let (address, port) = entry.split_once(':')?;
        if !is_port(port) {
            return None;
        }
        IpAddr::V4(address.parse().ok()?)
    };
    Some(address.to_canonical())
}

#[cfg(test)]
mod tests {
    use axum::http::HeaderValue;

    use super::*;

    fn cidr(value: &str) -> Cidr {
        value.parse().unwrap_or_else(|error| panic!("{error}"))
    }

    fn refused(value: &str) -> String {
        value.parse::<Cidr>().expect_err(value).to_string()
    }

    fn ip(value: &str) -> IpAddr {
        value.parse().unwrap()
    }

    fn trusted(ranges: &[&str]) -> TrustedProxies {
        TrustedProxies::new(ranges.iter().map(|range| cidr(range)))
    }

    /// The client of a request from `peer` with one `X-Forwarded-For` header per item.
    fn client(proxies: &TrustedProxies, peer: &str, forwarded_for: &[&[u8]]) -> String {
        let mut headers = HeaderMap::new();
        for value in forwarded_for {
            headers.append(X_FORWARDED_FOR, HeaderValue::from_bytes(value).unwrap());
        }
        proxies.client_address(ip(peer), &headers).to_string()
    }

    #[test]
    fn ranges_parse_in_both_families_and_bare_addresses_are_single_hosts() {
        let cases = [
            ("10.0.0.0/8", "10.0.0.0/8"),
            ("192.168.1.0/24", "192.168.1.0/24"),
            (" 172.16.0.0/12 ", "172.16.0.0/12"),
            ("10.0.0.7", "10.0.0.7/32"),
            ("0.0.0.0/0", "0.0.0.0/0"),
            ("::1/128", "::1/128"),
            ("::1", "::1/128"),
            ("fd00::/8", "fd00::/8"),
            ("2001:DB8::/32", "2001:db8::/32"),
            ("::/0", "::/0"),
            // IPv4-mapped ranges are the IPv4 ranges.
            ("::ffff:10.0.0.0/104", "10.0.0.0/8"),
            ("::ffff:10.0.0.7", "10.0.0.7/32"),
            ("::ffff:0:0/96", "0.0.0.0/0"),
        ];
        for (value, expected) in cases {
            assert_eq!(cidr(value).to_string(), expected, "{value}");
        }
    }

    #[test]
    fn invalid_ranges_are_refused_naming_the_value() {
        assert_eq!(
            refused("10.0.0.0/33"),
            r#""10.0.0.0/33" is not an IP address or CIDR range: the prefix length "33" is not a number from 0 to 32"#
        );
        assert_eq!(
            refused("10.1.2.3/8"),
            r#""10.1.2.3/8" is not an IP address or CIDR range: it has bits set past its /8 prefix (the range is 10.0.0.0/8)"#
        );
        assert_eq!(
            refused("proxy.internal"),
            r#""proxy.internal" is not an IP address or CIDR range: "proxy.internal" is not an IPv4 or IPv6 address (write e.g. 10.0.0.0/8, 10.0.0.7 or fd00::/8)"#
        );
        for value in [
            "",
            "10.0.0/8",
            "10.0.0.0/",
            "10.0.0.0/+8",
            "10.0.0.0/-1",
            "10.0.0.0/8/8",
            "::1/129",
            "fe80::1%eth0",
            "10.0.0.0 /8",
            "256.0.0.0/8",
        ] {
            assert!(value.parse::<Cidr>().is_err(), "{value:?} should be refused");
        }
        assert!(refused("::1/129").contains("from 0 to 128"));
    }

    #[test]
    fn ranges_contain_the_addresses_under_their_prefix() {
        let private = cidr("10.0.0.0/8");
        assert!(private.contains(ip("10.0.0.0")) && private.contains(ip("10.255.255.255")));
        assert!(!private.contains(ip("11.0.0.0")) && !private.contains(ip("9.255.255.255")));
        assert!(private.contains(ip("::ffff:10.1.2.3")), "an IPv4-mapped peer is its IPv4 address");
        assert!(!private.contains(ip("::a01:203")), "an IPv4-compatible address is IPv6");
        let odd = cidr("192.168.1.128/25");
        assert!(odd.contains(ip("192.168.1.200")) && !odd.contains(ip("192.168.1.127")));
        let host = cidr("10.0.0.7");
        assert!(host.contains(ip("10.0.0.7")) && !host.contains(ip("10.0.0.8")));
        assert!(cidr("0.0.0.0/0").contains(ip("203.0.113.7")) && !cidr("0.0.0.0/0").contains(ip("2001:db8::1")));
        let v6 = cidr("2001:db8:aa::/48");
        assert!(v6.contains(ip("2001:db8:aa:ffff::1")) && !v6.contains(ip("2001:db8:ab::1")));
        assert!(cidr("::1").contains(ip("::1")) && !cidr("::1").contains(ip("127.0.0.1")));
        assert!(cidr("::/0").contains(ip("fe80::1")) && !cidr("::/0").contains(ip("10.0.0.1")));
        assert!(cidr("::ffff:10.0.0.0/104").contains(ip("10.9.8.7")));
    }

    #[test]
    fn without_trusted_proxies_the_client_is_the_peer() {
        let nobody = TrustedProxies::default();
        assert_eq!(client(&nobody, "198.51.100.7", &[]), "198.51.100.7");
        assert_eq!(client(&nobody, "10.0.0.5", &[b"203.0.113.9"]), "10.0.0.5");
        assert_eq!(client(&nobody, "::ffff:198.51.100.7", &[]), "198.51.100.7", "a mapped peer is its IPv4 address");
    }

    #[test]
    fn a_peer_that_is_not_a_trusted_proxy_cannot_spoof_its_address() {
        let proxies = trusted(&["10.0.0.0/8"]);
        assert_eq!(client(&proxies, "198.51.100.7", &[b"203.0.113.9"]), "198.51.100.7");
        assert_eq!(client(&proxies, "198.51.100.7", &[b"10.0.0.1, 203.0.113.9"]), "198.51.100.7");
        assert_eq!(client(&proxies, "2001:db8::7", &[b"203.0.113.9"]), "2001:db8::7");
    }

    #[test]
    fn behind_one_trusted_proxy_the_client_is_the_address_it_appended() {
        let proxies = trusted(&["10.0.0.0/8"]);
        assert_eq!(client(&proxies, "10.0.0.5", &[b"203.0.113.9"]), "203.0.113.9");
        // Whatever the client sent comes before the proxy's entry and is not believed.
        assert_eq!(client(&proxies, "10.0.0.5", &[b"1.2.3.4, 203.0.113.9"]), "203.0.113.9");
        assert_eq!(client(&proxies, "10.0.0.5", &[b"1.2.3.4, 10.0.0.1, 203.0.113.9"]), "203.0.113.9");
        // Without a header, or with only trusted proxies in it, the client is the peer.
        assert_eq!(client(&proxies, "10.0.0.5", &[]), "10.0.0.5");
        assert_eq!(client(&proxies, "10.0.0.5", &[b"10.0.0.9, 10.0.0.8"]), "10.0.0.5");
        // A dual-stack listener reports the proxy as IPv4-mapped.
        assert_eq!(client(&proxies, "::ffff:10.0.0.5", &[b"203.0.113.9"]), "203.0.113.9");
    }

    #[test]
    fn chains_of_trusted_proxies_are_walked_from_the_right() {
        // Client → CDN edge (192.0.2.0/24) → load balancer (10.0.0.0/8) → Pipewise.
        let proxies = trusted(&["10.0.0.0/8", "192.0.2.0/24"]);
        assert_eq!(client(&proxies, "10.0.0.5", &[b"203.0.113.9, 192.0.2.10"]), "203.0.113.9");
        assert_eq!(client(&proxies, "10.0.0.5", &[b"6.6.6.6, 203.0.113.9, 192.0.2.10, 10.1.1.1"]), "203.0.113.9");
        // An untrusted hop in the middle is as far as the chain can be believed.
        assert_eq!(client(&proxies, "10.0.0.5", &[b"203.0.113.9, 198.51.100.66, 192.0.2.10"]), "198.51.100.66");
        // Several headers are one list, in order.
        assert_eq!(client(&proxies, "10.0.0.5", &[b"6.6.6.6, 203.0.113.9", b"192.0.2.10"]), "203.0.113.9");
        assert_eq!(client(&proxies, "10.0.0.5", &[b"203.0.113.9", b"6.6.6.6"]), "6.6.6.6");
    }

    #[test]
    fn ipv6_proxies_and_clients() {
        let proxies = trusted(&["::1", "fd00::/8"]);
        assert_eq!(client(&proxies, "::1", &[b"2001:db8::7"]), "2001:db8::7");
        assert_eq!(client(&proxies, "fd00::2", &[b"2001:db8::7, fd12::1"]), "2001:db8::7");
        assert_eq!(client(&proxies, "::1", &[b"203.0.113.9, fd00::3"]), "203.0.113.9");
        assert_eq!(client(&proxies, "::1", &[b"[2001:db8::7]:443"]), "2001:db8::7");
        assert_eq!(client(&proxies, "::1", &[b"2001:DB8:0:0:0:0:0:7"]), "2001:db8::7", "written the canonical way");
        assert_eq!(client(&proxies, "::1", &[b"::ffff:203.0.113.9"]), "203.0.113.9");
        assert_eq!(client(&proxies, "127.0.0.1", &[b"2001:db8::7"]), "127.0.0.1", "::1 does not trust 127.0.0.1");
    }

    #[test]
    fn a_malformed_entry_stops_the_walk_at_the_peer() {
        let proxies = trusted(&["10.0.0.0/8"]);
        for header in [
            &b"203.0.113.9, unknown"[..],
            b"203.0.113.9, 999.1.1.1",
            b"203.0.113.9, 2001:db8::7:443:1:2:3:4:5",
            b"203.0.113.9, fe80::1%eth0",
            b"203.0.113.9, [2001:db8::7",
            b"203.0.113.9, [2001:db8::7]x",
            b"203.0.113.9, 198.51.100.7:99999",
            b"203.0.113.9, 198.51.100.7:",
            b"203.0.113.9, _hidden",
            b"203.0.113.9, \xff\xfe",
        ] {
            // The client-controlled entry left of the junk is never used.
            assert_eq!(client(&proxies, "10.0.0.5", &[header]), "10.0.0.5", "{}", String::from_utf8_lossy(header));
        }
        // Empty entries are no entries.
        for header in [&b"203.0.113.9,,"[..], b"203.0.113.9 , \t"] {
            assert_eq!(client(&proxies, "10.0.0.5", &[header]), "203.0.113.9", "{}", String::from_utf8_lossy(header));
        }
        assert_eq!(client(&proxies, "10.0.0.5", &[b"203.0.113.9:4711"]), "203.0.113.9", "a port is dropped");
        assert_eq!(client(&proxies, "10.0.0.5", &[b"unknown"]), "10.0.0.5", "nothing usable: the peer");
        assert_eq!(client(&proxies, "10.0.0.5", &[b""]), "10.0.0.5");
    }
}
