import NIOCore

/// Runs a task's jobs on one event loop. The relay runs each connection's task, and the
/// connection's protocol actor (through `EventLoop.executor`), on the loop that owns the
/// connection's channel, so a frame is read, handled and answered on one thread: hopping to
/// Swift's cooperative pool and back for every frame cost more than the work itself.
public final class EventLoopTaskExecutor: TaskExecutor {
    public let eventLoop: any EventLoop

    public init(eventLoop: any EventLoop) {
        self.eventLoop = eventLoop
    }

    public func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        eventLoop.execute {
            job.runSynchronously(on: self.asUnownedTaskExecutor())
        }
    }

    /// One executor per loop of `group`, looked up by the loop.
    public static func perLoop(of group: any EventLoopGroup) -> [ObjectIdentifier: EventLoopTaskExecutor] {
        var executors: [ObjectIdentifier: EventLoopTaskExecutor] = [:]
        for loop in group.makeIterator() {
            executors[ObjectIdentifier(loop)] = EventLoopTaskExecutor(eventLoop: loop)
        }
        return executors
    }
}
