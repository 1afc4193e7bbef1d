//! Substring searches for the fixed needles of the hot path, each searcher built once:
//! `memchr::memmem::find` builds a searcher per call, which costs as much as searching a
//! short line.

use std::sync::LazyLock;

use memchr::memmem::{Finder, FinderRev};

macro_rules! needles {
    ($($(#[$doc:meta])* $name:ident = $kind:ident($needle:literal);)*) => {
        $($(#[$doc])* pub static $name: LazyLock<$kind<'static>> =
            LazyLock::new(|| $kind::new($needle));)*
    };
}

needles! {
    COLON_SPACE = Finder(b": ");
    SPACE_PAREN = Finder(b" (");
    STATUS = Finder(b"status=");
    SEMI_FROM = Finder(b"; from=");
    SEMI_FROM_REV = FinderRev(b"; from=");
    FROM_REV = FinderRev(b" from ");
    QUEUED_AS_REV = FinderRev(b"queued as ");
    TLS_ESTABLISHED = Finder(b"TLS connection established ");
    NON_DELIVERY = Finder(b" non-delivery notification: ");
    DELAY_NOTICE = Finder(b" delay notification: ");
    DSN_NOTICE = Finder(b" delivery status notification: ");
    CONNECT_TO = Finder(b"connect to ");
    HOST = Finder(b"host ");
    CONVERSATION_WITH = Finder(b"conversation with ");
    SERVER = Finder(b"server ");
    REFUSED_TO_TALK = Finder(b"refused to talk to me");
    SAID = Finder(b" said:");
    SUSPENDED = Finder(b"delivery temporarily suspended:");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn searchers_find_what_memmem_finds() {
        let line = b"to=<a@b.example>, relay=none, delay=1, status=deferred (connect to \
                     mx.b.example[192.0.2.1]:25: Connection refused; from=<x> queued as 4F2A)";
        assert_eq!(STATUS.find(line), memchr::memmem::find(line, b"status="));
        assert_eq!(COLON_SPACE.find(line), memchr::memmem::find(line, b": "));
        assert_eq!(
            SEMI_FROM_REV.rfind(line),
            memchr::memmem::rfind(line, b"; from=")
        );
        assert_eq!(
            QUEUED_AS_REV.rfind(line),
            memchr::memmem::rfind(line, b"queued as ")
        );
        assert!(CONNECT_TO.find(line).is_some() && SAID.find(line).is_none());
    }
}
