//! The people every server under comparison is given: the same user
//! names, the same password and the same contact lists, so that a figure
//! of one server answers the same question as the other's.

/// Users `user1`…`userN` with one password, each with a contact list of
/// its `roster` ring neighbours (`roster / 2` on each side, every contact
/// mutual, subscription `both` in XMPP terms).
#[derive(Debug, Clone)]
pub struct Population {
    /// How many users.
    pub users: usize,
    /// Contacts per user: even, and less than `users`.
    pub roster: usize,
    /// Everyone's password (servers that sign in by token, Simul, also
    /// get password users for the login storm).
    pub password: String,
}

impl Population {
    /// A population; the roster is rounded down to an even size and kept
    /// below the number of users, so that every contact is mutual.
    pub fn new(users: usize, roster: usize, password: &str) -> Self {
        let roster = roster.min(users.saturating_sub(1)) & !1;
        Self { users, roster, password: password.to_owned() }
    }

    /// The user name of user number `index` (from 0): `user1`, `user2`…
    pub fn name(index: usize) -> String {
        format!("user{}", index + 1)
    }

    /// Every user name, in order.
    pub fn names(&self) -> Vec<String> {
        (0..self.users).map(Self::name).collect()
    }

    /// The indexes of user `index`'s contacts: its ring neighbours.
    pub fn contacts(&self, index: usize) -> impl Iterator<Item = usize> + '_ {
        let half = self.roster / 2;
        (1..=half)
            .flat_map(move |d| [(index + d) % self.users, (index + self.users - d) % self.users])
    }
}

#[cfg(test)]
mod tests {
    use super::Population;

    #[test]
    fn contacts_are_mutual_distinct_and_not_oneself() {
        let population = Population::new(7, 4, "pw");
        for i in 0..7 {
            let contacts: Vec<usize> = population.contacts(i).collect();
            assert_eq!(contacts.len(), 4);
            assert!(!contacts.contains(&i));
            let mut unique = contacts.clone();
            unique.sort_unstable();
            unique.dedup();
            assert_eq!(unique.len(), 4, "{contacts:?}");
            for j in contacts {
                assert!(population.contacts(j).any(|k| k == i), "{i} lists {j}, not back");
            }
        }
    }

    #[test]
    fn the_roster_is_even_and_smaller_than_the_population() {
        assert_eq!(Population::new(100, 21, "pw").roster, 20);
        assert_eq!(Population::new(5, 50, "pw").roster, 4);
        assert_eq!(Population::new(1, 10, "pw").roster, 0);
        assert_eq!(Population::name(0), "user1");
    }
}
