/// What an open call holds beyond its metadata and its messages, which the memory budget
/// (`MemoryBudget`) is charged for while the call is open, on both listeners: the call's state
/// on its connection, and for a method whose handler runs as a task, that task (its frames,
/// its request stream, the writer). Measured: 150,000 open health watches (an asynchronous
/// handler waiting for a change) held about 6.2 KB each beyond their metadata, which the
/// budget did not see, so anonymous clients could make the server hold gigabytes within it.
public enum OpenCallCost {
    /// A call whose handler runs as a task of its own (streaming calls, asynchronous unary ones).
    public static let task = 8 * 1024
    /// A call answered in place or later through a completion (no task of its own).
    public static let inPlace = 1024

    /// The cost of an open call of `method`.
    public static func of(_ method: RegisteredMethod) -> Int {
        if case .asynchronous = method.handler { return task }
        return inPlace
    }
}
