import Foundation
import ServiceLifecycle

/// Prints the server's ready lines from inside the service group, and then is done. The group
/// traps SIGTERM and SIGINT before it starts any service, so a supervisor that signals the
/// server as soon as it reads a ready line always gets a graceful stop, never the signal's
/// default action.
struct ReadyAnnouncement: Service {
    let lines: [String]

    func run() async throws {
        for line in lines { print(line) }
        fflush(nil)
    }

    /// In a group, where its return must not end the others.
    var configuration: ServiceGroupConfiguration.ServiceConfiguration {
        .init(service: self, successTerminationBehavior: .ignore)
    }
}
