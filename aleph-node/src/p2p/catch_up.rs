//! The requester's side of one catch-up round with a peer. Pages are asked one at a time, the
//! next one as soon as the previous one arrives, while the pages received are applied in order
//! by a task of their own: fetching the next page overlaps verifying and recording this one. At
//! most [`MAX_QUEUED`] pages wait or are being applied, so a slow writer bounds how far ahead a
//! round reads (and the memory it holds).

/// Pages received and not yet applied, at most.
pub(crate) const MAX_QUEUED: usize = 2;

/// Where one round stands. The event loop feeds it what happens and asks it what to request.
#[derive(Debug)]
pub(crate) struct Round {
    /// Tells this round's events from those of an earlier round with the same peer.
    pub(crate) id: u64,
    /// A request (or the watermark read that precedes the first) is under way.
    in_flight: bool,
    /// Pages handed to the applier and not yet applied.
    queued: usize,
    /// The watermark the next request starts from, when the peer said more follow.
    next_after: Option<i64>,
}

impl Round {
    /// A round whose first request waits for the saved watermark.
    pub(crate) fn new(id: u64) -> Self {
        Round { id, in_flight: true, queued: 0, next_after: None }
    }

    /// A page arrived. Returns whether it has messages to apply (an empty page ends the round
    /// once the queue drains).
    pub(crate) fn on_page(&mut self, last_seq: i64, more: bool, empty: bool) -> bool {
        self.in_flight = false;
        if !empty {
            self.queued += 1;
        }
        self.next_after = (more && !empty).then_some(last_seq);
        !empty
    }

    /// The applier recorded a page.
    pub(crate) fn on_applied(&mut self) {
        self.queued = self.queued.saturating_sub(1);
    }

    /// The watermark to ask from now, if a request should go out (none is under way, the queue
    /// has room, and the peer has more).
    pub(crate) fn next_request(&mut self) -> Option<i64> {
        if self.in_flight || self.queued >= MAX_QUEUED {
            return None;
        }
        let after = self.next_after.take()?;
        self.in_flight = true;
        Some(after)
    }

    /// Nothing under way, nothing queued, nothing more to ask.
    pub(crate) fn is_done(&self) -> bool {
        !self.in_flight && self.queued == 0 && self.next_after.is_none()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_next_page_is_asked_while_the_previous_one_is_applied() {
        let mut r = Round::new(1);
        assert_eq!(r.next_request(), None, "the first request waits for the watermark");
        assert!(r.on_page(1000, true, false));
        assert_eq!(r.next_request(), Some(1000), "asked before page 1 is applied");
        assert_eq!(r.next_request(), None, "one request at a time");
        assert!(r.on_page(2000, true, false));
        assert_eq!(r.next_request(), None, "two pages queued: wait for the applier");
        r.on_applied();
        assert_eq!(r.next_request(), Some(2000));
        assert!(r.on_page(2500, false, false));
        assert_eq!(r.next_request(), None, "the peer has no more");
        assert!(!r.is_done());
        r.on_applied();
        assert!(!r.is_done(), "page 3 is still queued");
        r.on_applied();
        assert!(r.is_done());
    }

    #[test]
    fn an_empty_page_ends_the_round() {
        let mut r = Round::new(1);
        assert!(!r.on_page(0, true, true), "an empty page has nothing to apply, whatever `more` says");
        assert_eq!(r.next_request(), None);
        assert!(r.is_done());
    }
}
