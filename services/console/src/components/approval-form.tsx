import { useMutation, useQueryClient } from '@tanstack/react-query'
import { useState } from 'react'
import { describeError } from '../format.js'
import { useSession } from '../session/session.js'

export interface ApprovalFormProps {
  releaseId: number
  ring: string
  /** Accessible names: the inbox names the release, the board only the ring. */
  commentLabel: string
  approveLabel: string
  rejectLabel: string
}

/**
 * Approve or reject a stage with a comment (a rejection needs one), for the inbox's cards and the
 * board's actions alike; either way the release and the inbox are read again.
 */
export function ApprovalForm({
  releaseId,
  ring,
  commentLabel,
  approveLabel,
  rejectLabel,
}: ApprovalFormProps) {
  const { client } = useSession()
  const queryClient = useQueryClient()
  const [comment, setComment] = useState('')
  const decide = useMutation({
    mutationFn: (decision: 'approve' | 'reject') =>
      client.post('/v1/releases/{id}/stages/{ring}/approvals', {
        params: { path: { id: releaseId, ring } },
        body: { decision, comment },
      }),
    onSuccess: () => {
      setComment('')
      void queryClient.invalidateQueries({ queryKey: ['inbox'] })
      void queryClient.invalidateQueries({ queryKey: ['release', releaseId] })
    },
  })
  return (
    <>
      <label>
        {commentLabel}
        <textarea value={comment} onChange={(e) => setComment(e.target.value)} />
      </label>
      <div className="actions">
        <button type="button" disabled={decide.isPending} onClick={() => decide.mutate('approve')}>
          {approveLabel}
        </button>
        <button
          type="button"
          className="danger"
          disabled={decide.isPending || comment.trim() === ''}
          onClick={() => decide.mutate('reject')}
        >
          {rejectLabel}
        </button>
      </div>
      {decide.error ? <p role="alert">{describeError(decide.error)}</p> : null}
    </>
  )
}
