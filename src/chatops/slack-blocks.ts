/** The buttons' action ids: what the interactivity route routes on. */
export const APPROVE_ACTION = "stackyard.approve";
export const REJECT_ACTION = "stackyard.reject";

const section = (text: string) => ({ type: "section", text: { type: "mrkdwn", text } });

/**
 * The approval request as Block Kit: the request's text, then Approve / Reject buttons whose
 * value is the operation id (the click's payload brings it back; who clicked decides the rest).
 */
export function approvalBlocks(operationId: string, text: string): unknown[] {
  return [
    section(text),
    {
      type: "actions",
      block_id: `stackyard-approval-${operationId}`,
      elements: [
        {
          type: "button",
          action_id: APPROVE_ACTION,
          text: { type: "plain_text", text: "Approve" },
          style: "primary",
          value: operationId,
        },
        {
          type: "button",
          action_id: REJECT_ACTION,
          text: { type: "plain_text", text: "Reject" },
          style: "danger",
          value: operationId,
        },
      ],
    },
  ];
}

/** The request once decided: the same text and who decided, without buttons. */
export function decidedBlocks(text: string): unknown[] {
  return [section(text)];
}
