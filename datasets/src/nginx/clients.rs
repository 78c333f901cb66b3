//! The client population: addresses, remote users and agents, ranked by how much traffic they send.
//!
//! Addresses are mostly IPv4, with IPv6 in the forms a parser meets: loopback `::1`, compressed
//! documentation addresses `2001:db8::…`, fully written eight-group addresses, link-local `fe80::…` and
//! IPv4-mapped `::ffff:a.b.c.d`. Every address is one that `std::net::IpAddr` accepts.

use std::collections::HashSet;

use super::agents::{self, ClientKind};
use crate::dice::Dice;

/// One member of the population.
#[derive(Clone, Debug)]
pub(crate) struct Client {
    pub addr: Box<[u8]>,
    pub user: Box<[u8]>,
    pub agent: Box<[u8]>,
    pub kind: ClientKind,
}

const USERS: &[&str] = &[
    "alice",
    "bob",
    "carol",
    "dave",
    "admin",
    "deploy",
    "j.doe",
    "maria@example.com",
    "jos\u{e9}",
    "svc-backup",
    "grafana",
];

/// Builds a population of `n` clients with distinct addresses; the same dice give the same clients.
pub(crate) fn population(n: usize, dice: &mut Dice) -> Vec<Client> {
    let mut seen = HashSet::with_capacity(n);
    let mut clients = Vec::with_capacity(n);
    for rank in 0..n {
        let kind = match rank {
            // The heaviest hitters of a real shop: an office behind one NAT address, a crawler, the
            // health checker on the box itself.
            0 => ClientKind::Browser,
            1 => ClientKind::Crawler,
            3 => ClientKind::Monitor,
            _ => dice.weighted(&[
                (800, ClientKind::Browser),
                (60, ClientKind::Crawler),
                (80, ClientKind::Script),
                (20, ClientKind::Monitor),
                (40, ClientKind::Scanner),
            ]),
        };
        let mut addr = match rank {
            3 => "::1".to_owned(),
            5 => "127.0.0.1".to_owned(),
            _ => address(dice),
        };
        while !seen.insert(addr.clone()) {
            addr = address(dice);
        }
        let user =
            if kind == ClientKind::Browser && dice.chance(0.03) { dice.pick(USERS).as_bytes() } else { b"-" };
        clients.push(Client {
            addr: addr.into_bytes().into(),
            user: user.into(),
            agent: agents::agent(kind, dice).into(),
            kind,
        });
    }
    clients
}

fn address(dice: &mut Dice) -> String {
    let g = |dice: &mut Dice| dice.between(0, 0xffff);
    match dice.below(100) {
        0..90 => {
            // Public-looking unicast: skip 0/8, 10/8, 127/8 and multicast and above.
            let first = loop {
                let a = dice.between(1, 223);
                if a != 10 && a != 127 {
                    break a;
                }
            };
            format!("{first}.{}.{}.{}", dice.between(0, 255), dice.between(0, 255), dice.between(1, 254))
        }
        90..94 => format!("2001:db8:{:x}::{:x}", g(dice), g(dice)),
        94..96 => format!("2a02:{:x}:{:x}:{:x}::{:x}", g(dice), g(dice), g(dice), g(dice)),
        96..98 => {
            let groups: Vec<String> =
                (0..8).map(|i| if i == 0 { "2001".to_owned() } else { format!("{:04x}", g(dice)) }).collect();
            groups.join(":")
        }
        98 => format!("fe80::{:x}:{:x}:{:x}:{:x}", g(dice), g(dice), g(dice), g(dice)),
        _ => format!(
            "::ffff:{}.{}.{}.{}",
            dice.between(1, 223),
            dice.between(0, 255),
            dice.between(0, 255),
            dice.between(1, 254)
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::IpAddr;

    #[test]
    fn every_address_parses_and_is_distinct() {
        let clients = population(20_000, &mut Dice::new(3, 3));
        let mut seen = HashSet::new();
        for c in &clients {
            let text = std::str::from_utf8(&c.addr).unwrap();
            assert!(text.parse::<IpAddr>().is_ok(), "{text}");
            assert!(seen.insert(text));
            assert!(!c.user.is_empty() && !c.user.contains(&b' '));
        }
        assert_eq!(&*clients[3].addr, b"::1");
        assert!(seen.iter().any(|a| a.len() == 39), "a fully written IPv6 address");
        assert!(seen.iter().any(|a| a.starts_with("2001:db8:")));
        assert!(seen.iter().any(|a| a.starts_with("::ffff:")));
    }
}
