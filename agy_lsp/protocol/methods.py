"""Every custom method and notification name, in one place."""

from typing import Final


class Method:
    # client -> server requests
    CREATE_AGENT: Final = "agy/createAgent"
    CONFIGURE_AGENT: Final = "agy/configureAgent"
    CHAT: Final = "agy/chat"
    SEND: Final = "agy/send"
    CANCEL: Final = "agy/cancel"
    WAIT_FOR_IDLE: Final = "agy/waitForIdle"
    WAIT_FOR_WAKEUP: Final = "agy/waitForWakeup"
    STATUS: Final = "agy/status"
    HISTORY: Final = "agy/history"
    USAGE: Final = "agy/usage"
    CLEAR_HISTORY: Final = "agy/clearHistory"
    STRUCTURED_OUTPUT: Final = "agy/structuredOutput"
    LIST_AGENTS: Final = "agy/listAgents"
    SHUTDOWN_AGENT: Final = "agy/shutdownAgent"
    DELETE_AGENT: Final = "agy/deleteAgent"
    DISCONNECT_AGENT: Final = "agy/disconnectAgent"
    RESET_PERMISSIONS: Final = "agy/resetPermissions"
    SERVER_INFO: Final = "agy/serverInfo"
    LIST_SESSIONS: Final = "agy/listSessions"
    EXPORT_SESSION: Final = "agy/exportSession"
    DELETE_SESSION: Final = "agy/deleteSession"
    LIST_MODELS: Final = "agy/listModels"

    # server -> client notifications
    CHAT_CHUNK: Final = "agy/chatChunk"
    AGENT_STATE: Final = "agy/agentState"
    QUOTA: Final = "agy/quota"

    # server -> client requests (the editor decides)
    CONFIRM_TOOL_CALL: Final = "agy/confirmToolCall"
    RUN_TOOL: Final = "agy/runTool"
    HOOK: Final = "agy/hook"
