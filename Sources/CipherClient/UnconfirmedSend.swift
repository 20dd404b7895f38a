import CipherCore

/// How a send that did not finish is told when the cause is passing (a relay that cannot store
/// now, a lost connection, a relay out of reach): what happened and whether the message is
/// kept, in the same words and with exit code 9 whether the send ran in the command or in the
/// home's owner (the local API).
public enum UnconfirmedSend {
    /// The words for `error`, or nil for a definite failure (a refusal, a bad argument), which
    /// is reported as it is. `kept` says whether the message is in the outbox.
    public static func description(of error: any Error, keptInOutbox kept: Bool) -> String? {
        let cause: String
        switch error {
        case ClientError.relay(let relay) where relay.code == .storeUnavailable:
            cause = "the relay cannot store messages now (store_unavailable: \(relay.message))"
        case let relay as RelayError where relay.code == .storeUnavailable:
            cause = "the relay cannot store messages now (store_unavailable: \(relay.message))"
        case ClientError.notConfirmed:
            cause = "the relay could not take it"
        case let relay as RelayError where relay == .connectionClosed:
            cause = "the connection to the relay closed"
        case let unreachable as RelayUnreachable:
            cause = unreachable.description
        case is ClientError, is RelayError, is SealError, is LocalAPIError, is CancellationError:
            return nil
        default:
            // Connecting failed: the relay is down or out of reach.
            guard kept else { return nil }
            cause = "cannot reach the relay (\(error))"
        }
        let outcome = kept ? ClientError.notConfirmed(count: 1).description : "nothing was sent; try again later"
        return "\(cause); \(outcome)"
    }

    /// The local API's error for such a send: kind `not_confirmed`, exit code 9.
    static func apiError(_ error: any Error, keptInOutbox kept: Bool) -> LocalAPIError? {
        description(of: error, keptInOutbox: kept).map { LocalAPIError(kind: "not_confirmed", message: $0, exitCode: 9) }
    }
}
