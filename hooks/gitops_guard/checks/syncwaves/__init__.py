"""check-sync-waves: Argo CD annotations, sync ordering and Flux dependsOn."""
