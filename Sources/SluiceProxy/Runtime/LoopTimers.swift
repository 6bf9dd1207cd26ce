import NIOCore

/// Every DeadlineTimer of one event loop in one binary min-heap behind one NIO scheduled task,
/// as nginx keeps its timers in one tree. A NIO task per timer costs an idle connection about
/// 350 bytes (a promise, its future, three closures, a slot in NIO's queue) and its cancel is
/// a linear search of that queue; a timer here costs a slot in `heap`, and each move, add or
/// removal is O(log n). Only its event loop touches it.
final class LoopTimers {
    let eventLoop: any EventLoop
    /// Ordered by each timer's `queuedAt`; each timer knows its own index.
    private var heap: [DeadlineTimer] = []
    private var task: Scheduled<Void>?
    private var taskAt: NIODeadline?
    /// Tells a task that was replaced (NIO may still run a cancelled task) from the current one.
    private var taskGeneration = 0

    init(eventLoop: any EventLoop) {
        self.eventLoop = eventLoop
    }

    /// Timers waiting (for tests and gauges).
    var count: Int { heap.count }

    /// Puts `timer` in the heap at `at`, or moves it there if it is in already.
    func queue(_ timer: DeadlineTimer, at: NIODeadline) {
        if let index = timer.heapIndex {
            let earlier = at < (timer.queuedAt ?? at)
            timer.queuedAt = at
            earlier ? siftUp(index) : siftDown(index)
        } else {
            timer.queuedAt = at
            timer.heapIndex = heap.count
            heap.append(timer)
            siftUp(heap.count - 1)
        }
        armForFirst()
    }

    /// Takes `timer` out of the heap; nothing happens if it is not in it. The loop's task stays
    /// unless the heap is empty: at worst it fires early, finds nothing due and re-arms.
    func remove(_ timer: DeadlineTimer) {
        guard let index = timer.heapIndex else { return }
        take(at: index)
        if heap.isEmpty { dropTask() }
    }

    private func take(at index: Int) {
        let timer = heap[index]
        let last = heap.removeLast()
        if index < heap.count {
            heap[index] = last
            last.heapIndex = index
            siftDown(index)
            if let moved = last.heapIndex { siftUp(moved) }
        }
        timer.heapIndex = nil
        timer.queuedAt = nil
    }

    private func armForFirst() {
        guard let first = heap.first?.queuedAt else { return dropTask() }
        if let taskAt, taskAt <= first { return }
        task?.cancel()
        taskGeneration &+= 1
        let generation = taskGeneration
        taskAt = first
        // Strong: the heap's owner (LoopState) lives as long as the loop.
        task = eventLoop.assumeIsolated().scheduleTask(deadline: first) { [self] in fire(generation) }
    }

    private func dropTask() {
        task?.cancel()
        task = nil
        taskAt = nil
    }

    private func fire(_ generation: Int) {
        guard generation == taskGeneration else { return }
        task = nil
        taskAt = nil
        let now = eventLoop.now
        // Taken out first, then run: a callback may queue, move or remove any timer, its own too.
        var due: [DeadlineTimer] = []
        while let first = heap.first, let at = first.queuedAt, at <= now {
            take(at: 0)
            due.append(first)
        }
        for timer in due where timer.heapIndex == nil {  // one an earlier callback queued again waits
            timer.fired(now: now)
        }
        armForFirst()
    }

    private func less(_ a: Int, _ b: Int) -> Bool {
        (heap[a].queuedAt ?? .distantFuture) < (heap[b].queuedAt ?? .distantFuture)
    }

    private func swapAt(_ a: Int, _ b: Int) {
        heap.swapAt(a, b)
        heap[a].heapIndex = a
        heap[b].heapIndex = b
    }

    private func siftUp(_ start: Int) {
        var child = start
        while child > 0 {
            let parent = (child - 1) / 2
            guard less(child, parent) else { return }
            swapAt(child, parent)
            child = parent
        }
    }

    private func siftDown(_ start: Int) {
        var parent = start
        while true {
            let left = 2 * parent + 1
            guard left < heap.count else { return }
            let right = left + 1
            let smaller = right < heap.count && less(right, left) ? right : left
            guard less(smaller, parent) else { return }
            swapAt(smaller, parent)
            parent = smaller
        }
    }
}
