import type { Incident } from '@ringmaster/sdk'

export type IncidentStage = 'open' | 'mitigated' | 'resolved'

export function incidentStage(
  incident: Pick<Incident, 'mitigatedAt' | 'resolvedAt'>,
): IncidentStage {
  if (incident.resolvedAt) return 'resolved'
  return incident.mitigatedAt ? 'mitigated' : 'open'
}

// The release states' colours: open is red, mitigated amber, resolved green; the word says it too.
const stateClass: Record<IncidentStage, string> = {
  open: 'state-failed',
  mitigated: 'state-baking',
  resolved: 'state-succeeded',
}

/** Where an incident stands, in a word on its colour. */
export function IncidentState({
  incident,
}: {
  incident: Pick<Incident, 'id' | 'mitigatedAt' | 'resolvedAt'>
}) {
  const stage = incidentStage(incident)
  return (
    <span className={`state ${stateClass[stage]}`} data-testid={`incident-state-${incident.id}`}>
      {stage}
    </span>
  )
}

/** The ring and scale units it hit, or the whole fleet. */
export function incidentScopeInWords(incident: Pick<Incident, 'ring' | 'scaleUnits'>): string {
  const units = incident.scaleUnits.length > 0 ? ` (${incident.scaleUnits.join(', ')})` : ''
  return incident.ring ? `ring ${incident.ring}${units}` : `whole fleet${units}`
}
