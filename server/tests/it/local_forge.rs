//! The local forge and the workspace Git adapter against real bare repositories: a folder change
//! is one commit on a branch cut from the default branch, a re-run pushes nothing, pull requests
//! are numbered, found by head branch, merged as a merge commit and closed; names that could
//! leave the forge's folder are refused.

use crate::db_test;
use crate::support::git;
use app::domain::integrations::Provider;
use app::server::ports::{
    BranchChange, Forge, ForgeRepo, NewPull, PullState, TreeEdit, WorkspaceGit,
};
use server::adapters::local_forge::{create_repository, repository_path, LocalForge};
use server::adapters::workspace_git::GitWorkspaces;

fn change(folder: &str, files: Option<&[(&str, &str)]>, branch: &str) -> BranchChange {
    BranchChange {
        base: "main".into(),
        branch: branch.into(),
        edit: TreeEdit::Folder {
            folder: folder.into(),
            files: files.map(|f| {
                f.iter()
                    .map(|(n, c)| (n.to_string(), c.to_string()))
                    .collect()
            }),
        },
        message: format!("feat(vpc): sync {folder}\n\nSlipway-Initiator: ada <ada@example.com>\n"),
        author_name: "Ada Lovelace".into(),
        author_email: "ada@example.com".into(),
    }
}

db_test! {
    async fn local_forge_branches_pulls_and_merges(db: TestDb) {
        let root = db.dir.join("git");
        for bad in ["../escape", "acme/../x", "acme", "a/b/c", ".hidden/x", "acme/.git", ""] {
            assert!(repository_path(&root, bad).is_err(), "{bad:?} must be refused");
        }
        let bare = create_repository(&root, "acme/live", "ada").unwrap();
        assert!(create_repository(&root, "acme/live", "ada").unwrap_err().message.contains("already has"));

        let forge = LocalForge::new(db.conn.clone(), &db.dir, "http://127.0.0.1:1");
        let repo = ForgeRepo {
            provider: Provider::LocalGit,
            repository: "acme/live".into(),
            settings: Default::default(),
            secrets: Default::default(),
        };
        let config = forge.metadata(&repo).await.unwrap();
        assert_eq!((config.name.as_str(), config.organization.as_str(), config.default_branch.as_str()), ("live", "acme", "main"));
        assert_eq!(config.https_url, "http://127.0.0.1:1/git/acme/live.git");
        let missing = ForgeRepo { repository: "acme/nothing".into(), ..repo.clone() };
        assert!(forge.metadata(&missing).await.unwrap_err().message.contains("create it first"));

        let gits = GitWorkspaces::new(&db.dir, &Default::default());
        let files: &[(&str, &str)] = &[("main.tf", "module \"prod\" {}\n"), ("variables.tf", "")];
        let first = gits.push_change(&repo, &config, &change("vpc/prod_vpc", Some(files), "update_prod_vpc")).await.unwrap();
        assert!(first.pushed && first.differs);
        // A re-run (a job resumed after a crash) finds the branch already right and pushes nothing.
        let again = gits.push_change(&repo, &config, &change("vpc/prod_vpc", Some(files), "update_prod_vpc")).await.unwrap();
        assert_eq!((again.commit.as_str(), again.pushed), (first.commit.as_str(), false));
        let log = git(&bare, &["log", "--format=%an <%ae>|%s", "update_prod_vpc"]);
        assert_eq!(log, "Ada Lovelace <ada@example.com>|feat(vpc): sync vpc/prod_vpc\nada <slipway@localhost>|Initial commit");
        assert_eq!(git(&bare, &["ls-tree", "-r", "--name-only", "update_prod_vpc"]), "README.md\nvpc/prod_vpc/main.tf\nvpc/prod_vpc/variables.tf");
        assert!(gits.push_change(&repo, &config, &change("vpc/x", Some(&[("../evil", "")]), "update_x")).await.is_err());

        // Pull requests: numbered, found by head branch, never two open for one branch.
        let new = NewPull { head_branch: "update_prod_vpc".into(), base_branch: "main".into(), title: "Sync vpc/prod_vpc".into(), body: String::new(), author: "ada".into() };
        let pull = forge.create_pull(&repo, &new).await.unwrap();
        assert_eq!((pull.number, pull.state), (1, PullState::Open));
        assert_eq!(forge.find_open_pull(&repo, "update_prod_vpc").await.unwrap(), Some(pull.clone()));
        assert!(forge.create_pull(&repo, &new).await.unwrap_err().message.contains("already open"));
        // A merge takes exactly the commit approved: another one (the branch moved since) is
        // refused and nothing moves.
        let approved = first.commit.clone();
        let other = "0123456789abcdef0123456789abcdef01234567";
        let refused = forge.merge_pull(&repo, 1, "Merge pull request #1", other).await.unwrap_err();
        assert!(refused.message.contains("after 0123456789ab was approved; not merged"), "{}", refused.message);
        assert!(!refused.retryable, "a moved head is not retried");
        assert_eq!(forge.find_open_pull(&repo, "update_prod_vpc").await.unwrap().and_then(|p| p.head_commit), Some(approved.clone()));
        let merged = forge.merge_pull(&repo, 1, "Merge pull request #1", &approved).await.unwrap();
        assert_eq!(merged.state, PullState::Merged);
        let merge_commit = merged.merge_commit.clone().unwrap();
        assert_eq!(git(&bare, &["rev-parse", "main"]), merge_commit);
        assert_eq!(git(&bare, &["rev-list", "--parents", "-n", "1", "main"]).split(' ').count(), 3, "a merge commit");
        assert_eq!(forge.merge_pull(&repo, 1, "again", &approved).await.unwrap().merge_commit, Some(merge_commit.clone()), "merging twice changes nothing");
        assert_eq!(gits.read_folder(&repo, &config, "main", "vpc/prod_vpc").await.unwrap().len(), 2);

        // The same code again: nothing to review.
        let same = gits.push_change(&repo, &config, &change("vpc/prod_vpc", Some(files), "update_prod_vpc")).await.unwrap();
        assert!(!same.differs && !same.pushed);

        // Deleting: a branch without the folder; rejecting closes it, and it cannot be merged.
        gits.push_change(&repo, &config, &change("vpc/prod_vpc", None, "delete_prod_vpc")).await.unwrap();
        assert_eq!(git(&bare, &["ls-tree", "-r", "--name-only", "delete_prod_vpc"]), "README.md");
        let delete = forge.create_pull(&repo, &NewPull { head_branch: "delete_prod_vpc".into(), ..new.clone() }).await.unwrap();
        assert_eq!(delete.number, 2);
        assert_eq!(forge.close_pull(&repo, 2).await.unwrap().state, PullState::Closed);
        let delete_head = git(&bare, &["rev-parse", "delete_prod_vpc"]);
        assert!(forge.merge_pull(&repo, 2, "x", &delete_head).await.unwrap_err().message.contains("closed"));
        let reopened = forge.create_pull(&repo, &NewPull { head_branch: "delete_prod_vpc".into(), ..new.clone() }).await.unwrap();
        assert_eq!(reopened.number, 3);
        forge.merge_pull(&repo, 3, "Merge pull request #3", &delete_head).await.unwrap();
        assert!(gits.read_folder(&repo, &config, "main", "vpc/prod_vpc").await.unwrap().is_empty(), "the folder is gone");
        assert_eq!(git(&bare, &["ls-tree", "-r", "--name-only", "main"]), "README.md");
    }
}
